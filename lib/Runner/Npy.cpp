//===- Npy.cpp - Reading and writing NumPy .npy files -----------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "attune/Runner/Npy.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace attune::runner;
using llvm::SmallVector;
using llvm::StringRef;

static constexpr char kMagic[] = "\x93NUMPY";

size_t NpyArray::elementSize() const {
  unsigned size = 0;
  StringRef(dtype).drop_front(1).getAsInteger(10, size);
  return size;
}

int64_t NpyArray::numElements() const {
  std::optional<int64_t> n = checkedNumElements();
  assert(n && "element count of a .npy array overflows int64");
  return *n;
}

std::optional<int64_t> NpyArray::checkedNumElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    if (d < 0 || llvm::MulOverflow(n, d, n))
      return std::nullopt;
  return n;
}

static bool isSupportedDtype(StringRef dtype) {
  return llvm::is_contained({"f8", "f4", "f2", "i8", "i4", "i2", "i1", "u1",
                             "b1"},
                            dtype);
}

static llvm::Error fail(StringRef path, const llvm::Twine &what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "'" + path + "': " + what);
}

/// Returns the value text of `key` in the header dictionary.
static std::optional<StringRef> dictValue(StringRef header, StringRef key) {
  size_t pos = header.find(("'" + key + "'").str());
  if (pos == StringRef::npos)
    return std::nullopt;
  StringRef rest = header.drop_front(pos + key.size() + 2).ltrim();
  if (!rest.consume_front(":"))
    return std::nullopt;
  return rest.ltrim();
}

llvm::Expected<NpyArray> attune::runner::readNpy(StringRef path,
                                                 bool withData) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return fail(path, "cannot read: " + buffer.getError().message());
  StringRef data = (*buffer)->getBuffer();
  if (data.size() < 10 || !data.starts_with(StringRef(kMagic, 6)))
    return fail(path, "not a .npy file (bad magic)");
  uint8_t major = data[6];
  size_t headerLen, offset;
  if (major == 1) {
    headerLen = uint8_t(data[8]) | (uint8_t(data[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (data.size() < 12)
      return fail(path, "truncated header");
    headerLen = 0;
    for (int k = 0; k < 4; ++k)
      headerLen |= size_t(uint8_t(data[8 + k])) << (8 * k);
    offset = 12;
  } else {
    return fail(path, "unsupported .npy version " + llvm::Twine(major));
  }
  if (data.size() < offset + headerLen)
    return fail(path, "truncated header");
  StringRef header = data.substr(offset, headerLen);

  NpyArray array;
  std::optional<StringRef> descr = dictValue(header, "descr");
  if (!descr || descr->size() < 2 || !descr->starts_with("'"))
    return fail(path, "header has no 'descr'");
  StringRef dtype = descr->drop_front(1).take_until([](char c) {
    return c == '\'';
  });
  if (dtype.starts_with(">") && !dtype.ends_with("1"))
    return fail(path, "big-endian data is not supported");
  if (dtype.starts_with("<") || dtype.starts_with("|") ||
      dtype.starts_with("="))
    dtype = dtype.drop_front(1);
  if (!isSupportedDtype(dtype))
    return fail(path, "unsupported dtype '" + dtype + "'");
  array.dtype = dtype.str();

  std::optional<StringRef> fortran = dictValue(header, "fortran_order");
  if (!fortran || !fortran->starts_with("False"))
    return fail(path, "only C-order arrays are supported");

  std::optional<StringRef> shape = dictValue(header, "shape");
  if (!shape || !shape->starts_with("("))
    return fail(path, "header has no 'shape'");
  StringRef dims = shape->drop_front(1).take_until([](char c) {
    return c == ')';
  });
  SmallVector<StringRef> parts;
  dims.split(parts, ',', -1, /*KeepEmpty=*/false);
  for (StringRef part : parts) {
    part = part.trim();
    if (part.empty())
      continue;
    int64_t dim;
    if (part.getAsInteger(10, dim) || dim < 0)
      return fail(path, "bad shape entry '" + part + "'");
    array.shape.push_back(dim);
  }

  // A hostile shape may claim more elements or bytes than fit in 64 bits.
  std::optional<int64_t> count = array.checkedNumElements();
  int64_t want;
  if (!count || llvm::MulOverflow(*count, int64_t(array.elementSize()), want))
    return fail(path,
                "shape (" + dims + ") has more bytes than fit in 64 bits");
  StringRef payload = data.drop_front(offset + headerLen);
  if (payload.size() != uint64_t(want))
    return fail(path, "expected " + llvm::Twine(want) + " data bytes, found " +
                          llvm::Twine(payload.size()));
  if (withData)
    array.bytes.assign(payload.begin(), payload.end());
  return array;
}

llvm::Error attune::runner::writeNpy(StringRef path, const NpyArray &array) {
  std::string header;
  llvm::raw_string_ostream os(header);
  char order = array.dtype == "b1" || array.dtype == "i1" || array.dtype == "u1"
                   ? '|'
                   : '<';
  os << "{'descr': '" << order << array.dtype
     << "', 'fortran_order': False, 'shape': (";
  for (int64_t d : array.shape)
    os << d << ", ";
  os << "), }";
  // Pad with spaces so that the data starts on a 64-byte boundary.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  // Version 1.0 stores the header length in 16 bits.
  if (header.size() > 0xffff)
    return fail(path, "header of " + llvm::Twine(header.size()) +
                          " bytes is too long for .npy version 1.0");

  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec)
    return fail(path, "cannot write: " + ec.message());
  out.write(kMagic, 6);
  out << char(1) << char(0) << char(header.size() & 0xff)
      << char(header.size() >> 8);
  out << header;
  out.write(array.bytes.data(), array.bytes.size());
  out.close();
  if (out.has_error())
    return fail(path, "write failed");
  return llvm::Error::success();
}
