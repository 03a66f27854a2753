//===- Json.h - A small JSON parser for manifests ---------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The runtime must build with nothing but a C++ compiler, so it carries its
// own JSON reader: RFC 8259 values into a tree, objects in source order,
// integers kept exact as int64 when they have no fraction or exponent.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_RUNTIME_JSON_H
#define ATTUNE_RUNTIME_JSON_H

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace attune::rt {

/// One JSON value.
class JsonValue {
public:
  enum class Kind { Null, Bool, Int, Double, String, Array, Object };

  Kind kind = Kind::Null;
  bool boolean = false;
  /// Set for Int (a number without fraction or exponent that fits int64).
  int64_t integer = 0;
  /// Set for Int and Double.
  double number = 0;
  std::string string;
  std::vector<JsonValue> array;
  /// Members in source order; keys are unique (the parser rejects
  /// duplicates).
  std::vector<std::pair<std::string, JsonValue>> object;

  bool isNull() const { return kind == Kind::Null; }
  bool isInt() const { return kind == Kind::Int; }
  bool isString() const { return kind == Kind::String; }
  bool isArray() const { return kind == Kind::Array; }
  bool isObject() const { return kind == Kind::Object; }

  /// Returns the member `key` of an object, or null if absent (or if this is
  /// not an object).
  const JsonValue *find(std::string_view key) const;

  /// A word for the kind, for messages ("an object", "a string", ...).
  const char *kindName() const;
};

/// Bounds on what parseJson accepts, so that a hostile document is an error
/// rather than a stack overflow, an allocation failure or minutes of work.
/// The defaults are far above any manifest attunec writes (a few KiB).
struct JsonLimits {
  /// Size of the whole text in bytes.
  size_t maxDocumentBytes = 16 << 20;
  /// Arrays and objects nested in one another.
  int maxDepth = 512;
  /// Bytes of one string (a key or a value) once unescaped.
  size_t maxStringBytes = 1 << 20;
  /// Characters of one number literal.
  size_t maxNumberChars = 100;
  /// Values in the whole document (every array element, member, scalar).
  size_t maxValues = 1 << 20;
};

/// Parses `text` as one JSON value (surrounding whitespace allowed). On
/// failure returns false and sets `error` to "line L, column C: <what>" (just
/// <what> for a document above the size limit). Exceeding a limit of `limits`
/// is an error; so is a number whose magnitude overflows a double (e.g. 1e999).
/// Duplicate keys are found with a hash set (linear time in the number of keys,
/// not quadratic).
bool parseJson(std::string_view text, JsonValue &out, std::string &error,
               const JsonLimits &limits = JsonLimits());

} // namespace attune::rt

#endif // ATTUNE_RUNTIME_JSON_H
