//===- baseline.cpp - OpenBLAS ceiling and unfused attention ----*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The two CPU baselines of bench/cpu (bench/RESULTS.md, "CPU"), one JSON
// line each:
//
//   attn-baseline sgemm --m M --n N --k K [--threads T] [--min-ms MS]
//     cblas_sgemm C[M,N] = A[M,K] * B[K,N], row-major: the ceiling. Repeats
//     for at least MS milliseconds; reports the median and the fastest call.
//
//   attn-baseline attention --b B --h H --sq SQ --sk SK --d D [--causal]
//                 [--threads T] [--repeats R] [--parallel blas|heads]
//                 [--check]
//     Unfused attention as NumPy / PyTorch eager computes it, f32, layout
//     bhsd: for each (b, h), S = scale * Q.K^T (sgemm), causal mask and
//     softmax in plain C++ loops, O = P.V (sgemm). S [SQ, SK] is
//     materialised, once per thread. `--parallel blas` threads the sgemm
//     calls (OpenBLAS) and splits the softmax rows; `heads` gives each thread
//     whole (b, h) slices with single-threaded sgemm. `--check` compares a
//     few rows with a float64 evaluation.
//
// GFLOP/s counts 4*B*H*SQ*SK*D useful flops (2 per multiply-add in Q.K^T and
// P.V), halved for causal: the same definition for every row of the bench.
// Memory: `work_mib` is the growth of getrusage's maxrss after the inputs
// and outputs were allocated and touched, so it is the working memory of the
// computation (S and OpenBLAS's buffers), not of its operands.
//
//===----------------------------------------------------------------------===//

#include <cblas.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace {
/// Command-line options of both modes; unused ones keep their defaults.
struct Options {
  std::string mode;
  long m = 2048, n = 2048, k = 128;
  long b = 1, h = 1, sq = 512, sk = 0, d = 64;
  bool causal = false;
  bool check = false;
  int threads = 1;
  int repeats = 3;
  double minMs = 300;
  std::string parallel = "blas";
};
} // namespace

[[noreturn]] static void usage(const char *message) {
  std::fprintf(stderr,
               "attn-baseline: error: %s\n"
               "usage: attn-baseline sgemm --m M --n N --k K [--threads T] "
               "[--min-ms MS]\n"
               "       attn-baseline attention --b B --h H --sq SQ [--sk SK] "
               "--d D [--causal] [--threads T] [--repeats R] "
               "[--parallel blas|heads] [--check]\n",
               message);
  std::exit(2);
}

static long parseLong(const char *flag, const char *text) {
  char *end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (!*text || *end || value <= 0)
    usage((std::string("bad value for ") + flag + ": " + text).c_str());
  return value;
}

static Options parseOptions(int argc, char **argv) {
  if (argc < 2)
    usage("expected a mode: sgemm or attention");
  Options o;
  o.mode = argv[1];
  if (o.mode != "sgemm" && o.mode != "attention")
    usage(("unknown mode " + o.mode).c_str());
  for (int i = 2; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--causal") {
      o.causal = true;
      continue;
    }
    if (flag == "--check") {
      o.check = true;
      continue;
    }
    if (i + 1 >= argc)
      usage(("missing value for " + flag).c_str());
    const char *value = argv[++i];
    if (flag == "--m")
      o.m = parseLong("--m", value);
    else if (flag == "--n")
      o.n = parseLong("--n", value);
    else if (flag == "--k")
      o.k = parseLong("--k", value);
    else if (flag == "--b")
      o.b = parseLong("--b", value);
    else if (flag == "--h")
      o.h = parseLong("--h", value);
    else if (flag == "--sq")
      o.sq = parseLong("--sq", value);
    else if (flag == "--sk")
      o.sk = parseLong("--sk", value);
    else if (flag == "--d")
      o.d = parseLong("--d", value);
    else if (flag == "--threads")
      o.threads = int(parseLong("--threads", value));
    else if (flag == "--repeats")
      o.repeats = int(parseLong("--repeats", value));
    else if (flag == "--min-ms")
      o.minMs = double(parseLong("--min-ms", value));
    else if (flag == "--parallel")
      o.parallel = value;
    else
      usage(("unknown option " + flag).c_str());
  }
  if (o.sk == 0)
    o.sk = o.sq;
  if (o.parallel != "blas" && o.parallel != "heads")
    usage("--parallel must be blas or heads");
  return o;
}

/// Peak resident set size of this process so far, in MiB.
static double maxRssMiB() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0; // Linux reports KiB.
}

/// Seeded uniform [-1, 1) values; the exact distribution does not matter
/// for timing, only that it is not all zeros and is touched (resident).
static void fillRandom(std::vector<float> &data, uint64_t seed) {
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  for (float &x : data) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    x = float(int64_t(state >> 40) - (1ll << 23)) / float(1ll << 23);
  }
}

static double seconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

static double median(std::vector<double> times) {
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

static int runSgemm(const Options &o) {
  openblas_set_num_threads(o.threads);
  std::vector<float> a(o.m * o.k), b(o.k * o.n), c(o.m * o.n);
  fillRandom(a, 1);
  fillRandom(b, 2);
  auto call = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(o.m), int(o.n),
                int(o.k), 1.0f, a.data(), int(o.k), b.data(), int(o.n), 0.0f,
                c.data(), int(o.n));
  };
  call(); // Warm-up: thread start, buffer allocation.
  std::vector<double> times;
  double total = 0;
  while (times.size() < 5 || total * 1e3 < o.minMs) {
    double start = seconds();
    call();
    times.push_back(seconds() - start);
    total += times.back();
  }
  double med = median(times);
  double best = *std::min_element(times.begin(), times.end());
  double flops = 2.0 * o.m * o.n * o.k;
  // best_gflops (fastest call) is what the machine can do; on a shared
  // machine the median also measures the neighbours.
  std::printf("{\"mode\":\"sgemm\",\"m\":%ld,\"n\":%ld,\"k\":%ld,"
              "\"threads\":%d,\"median_ms\":%.4f,\"min_ms\":%.4f,"
              "\"repeats\":%zu,\"gflops\":%.3f,\"best_gflops\":%.3f,"
              "\"corename\":\"%s\"}\n",
              o.m, o.n, o.k, o.threads, med * 1e3, best * 1e3, times.size(),
              flops / med * 1e-9, flops / best * 1e-9, openblas_get_corename());
  return 0;
}

/// Scale and mask are folded in before: rows of `s` hold scale * Q.K^T.
/// Replaces row i of S with softmax over its first `valid(i)` entries and
/// zeros after them (the causal mask, top-left aligned: key j <= query i).
static void softmaxRows(float *s, long rowBegin, long rowEnd, long sk,
                        bool causal) {
  for (long i = rowBegin; i < rowEnd; ++i) {
    float *row = s + i * sk;
    long valid = causal ? std::min(i + 1, sk) : sk;
    float max = std::numeric_limits<float>::lowest();
    for (long j = 0; j < valid; ++j)
      max = std::max(max, row[j]);
    float sum = 0;
    for (long j = 0; j < valid; ++j) {
      float e = std::exp(row[j] - max);
      row[j] = e;
      sum += e;
    }
    float inv = 1.0f / sum;
    for (long j = 0; j < valid; ++j)
      row[j] *= inv;
    for (long j = valid; j < sk; ++j)
      row[j] = 0;
  }
}

/// One (b, h) slice: O = softmax(scale * Q.K^T, masked) . V through `s`.
/// `softmaxThreads` > 1 splits the softmax rows over that many threads
/// (the BLAS calls are threaded by OpenBLAS itself in that mode).
static void attentionHead(const Options &o, const float *q, const float *k,
                          const float *v, float *out, float *s,
                          int softmaxThreads) {
  float scale = 1.0f / std::sqrt(float(o.d));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(o.sq), int(o.sk),
              int(o.d), scale, q, int(o.d), k, int(o.d), 0.0f, s, int(o.sk));
  if (softmaxThreads <= 1) {
    softmaxRows(s, 0, o.sq, o.sk, o.causal);
  } else {
    std::vector<std::thread> workers;
    long chunk = (o.sq + softmaxThreads - 1) / softmaxThreads;
    for (int t = 0; t < softmaxThreads; ++t) {
      long begin = t * chunk, end = std::min(o.sq, begin + chunk);
      if (begin < end)
        workers.emplace_back(softmaxRows, s, begin, end, o.sk, o.causal);
    }
    for (std::thread &w : workers)
      w.join();
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(o.sq), int(o.d),
              int(o.sk), 1.0f, s, int(o.sk), v, int(o.d), 0.0f, out, int(o.d));
}

/// Largest norm-relative error of a few rows of head 0 against float64.
static double checkRows(const Options &o, const std::vector<float> &q,
                        const std::vector<float> &k,
                        const std::vector<float> &v,
                        const std::vector<float> &out) {
  double scale = 1.0 / std::sqrt(double(o.d)), worst = 0;
  for (long i : {0l, o.sq / 2, o.sq - 1}) {
    long valid = o.causal ? std::min(i + 1, o.sk) : o.sk;
    std::vector<double> p(valid);
    double max = std::numeric_limits<double>::lowest(), sum = 0;
    for (long j = 0; j < valid; ++j) {
      double dot = 0;
      for (long x = 0; x < o.d; ++x)
        dot += double(q[i * o.d + x]) * k[j * o.d + x];
      p[j] = dot * scale;
      max = std::max(max, p[j]);
    }
    for (double &x : p)
      sum += (x = std::exp(x - max));
    double diff2 = 0, ref2 = 0;
    for (long x = 0; x < o.d; ++x) {
      double want = 0;
      for (long j = 0; j < valid; ++j)
        want += p[j] / sum * v[j * o.d + x];
      double got = out[i * o.d + x];
      diff2 += (got - want) * (got - want);
      ref2 += want * want;
    }
    worst = std::max(worst, std::sqrt(diff2 / std::max(ref2, 1e-300)));
  }
  return worst;
}

static int runAttention(const Options &o) {
  bool heads = o.parallel == "heads";
  openblas_set_num_threads(heads ? 1 : o.threads);
  long bh = o.b * o.h;
  std::vector<float> q(bh * o.sq * o.d), k(bh * o.sk * o.d), v(bh * o.sk * o.d),
      out(bh * o.sq * o.d, 0.0f);
  fillRandom(q, 1);
  fillRandom(k, 2);
  fillRandom(v, 3);
  double ioMiB = 4.0 * (q.size() + k.size() + v.size() + out.size()) / 1048576;
  double rssWithIo = maxRssMiB();

  int workers = heads ? int(std::min<long>(o.threads, bh)) : 1;
  std::vector<std::vector<float>> scores(workers);
  auto slice = [&](long i, long rows) { return i * rows * o.d; };
  auto call = [&] {
    if (!heads) {
      if (scores[0].empty())
        scores[0].resize(o.sq * o.sk);
      for (long i = 0; i < bh; ++i)
        attentionHead(o, &q[slice(i, o.sq)], &k[slice(i, o.sk)],
                      &v[slice(i, o.sk)], &out[slice(i, o.sq)],
                      scores[0].data(), o.threads);
      return;
    }
    std::vector<std::thread> pool;
    for (int t = 0; t < workers; ++t)
      pool.emplace_back([&, t] {
        std::vector<float> &s = scores[t];
        if (s.empty())
          s.resize(o.sq * o.sk);
        for (long i = t; i < bh; i += workers)
          attentionHead(o, &q[slice(i, o.sq)], &k[slice(i, o.sk)],
                        &v[slice(i, o.sk)], &out[slice(i, o.sq)], s.data(), 1);
      });
    for (std::thread &w : pool)
      w.join();
  };

  call(); // Warm-up: S allocated and touched, OpenBLAS threads started.
  std::vector<double> times;
  for (int r = 0; r < o.repeats; ++r) {
    double start = seconds();
    call();
    times.push_back(seconds() - start);
  }
  double med = median(times);
  double flops = 4.0 * bh * o.sq * o.sk * o.d * (o.causal ? 0.5 : 1.0);
  double peak = maxRssMiB();
  std::printf("{\"mode\":\"attention\",\"b\":%ld,\"h\":%ld,\"sq\":%ld,"
              "\"sk\":%ld,\"d\":%ld,\"causal\":%s,\"threads\":%d,"
              "\"parallel\":\"%s\",\"median_ms\":%.4f,\"min_ms\":%.4f,"
              "\"repeats\":%zu,\"gflops\":%.3f,\"peak_mib\":%.1f,"
              "\"io_mib\":%.1f,\"work_mib\":%.1f",
              o.b, o.h, o.sq, o.sk, o.d, o.causal ? "true" : "false", o.threads,
              o.parallel.c_str(), med * 1e3,
              *std::min_element(times.begin(), times.end()) * 1e3, times.size(),
              flops / med * 1e-9, peak, ioMiB, peak - rssWithIo);
  if (o.check)
    std::printf(",\"check_rel_err\":%.3g", checkRows(o, q, k, v, out));
  std::printf("}\n");
  return 0;
}

int main(int argc, char **argv) {
  Options o = parseOptions(argc, argv);
  return o.mode == "sgemm" ? runSgemm(o) : runAttention(o);
}
