// interleave/codec.hpp — how values cross a process boundary: a codec
// (values <-> bytes) and length framing (records on a byte stream).
//
// The codec is the concept `Codec<C, T>`:
//   C::encode(const T&) -> std::vector<std::byte>
//   C::decode<T>(std::span<const std::byte>) -> T
// `cereal_codec` implements it with cereal's binary format (Debian
// libcereal-dev): every type cereal can serialize (arithmetic types, the
// standard containers, strings, optional, variant, tuples, and types with a
// serialize()/save()/load() of their own) can be put into a Pipe or an
// inter-process Queue, by including the matching <cereal/types/...> header.
// Encoding writes cereal::BinaryOutputArchive's bytes. Decoding uses
// `bounded_input_archive` below, which reads the same bytes but never past the
// record: a length field (a string's or a container's size) larger than the
// bytes left in the record is refused before anything is allocated, so a
// corrupt or hostile record can cost no more memory than its own length.
// (Consequence: a container of N elements that encode to 0 bytes each, e.g.
// empty structs, cannot be decoded when N exceeds the bytes left.) Both ends
// must be the same program build on the same architecture (no endianness or
// version conversion), which is what fork and re-exec give.
//
// Framing: a record is a 4-byte little-endian payload length followed by the
// payload. A record is at most `max_record` bytes of payload (default 64 MiB).
//
// Errors (all codec_error, a std::runtime_error; each message names what was
// expected and what was found):
//   - encode: an exception thrown by the value's own serialization, or a
//     record over max_record ("encode: record of N bytes exceeds max_record M");
//   - decode: bytes that do not make a T (a length past the record's end,
//     too few bytes, a bool byte other than 0 or 1, a variant index out of
//     range) or bytes left over after a T;
//   - read_record: end-of-file inside a record is short_record_error ("short
//     record: expected a 120-byte payload, end-of-file after 37 bytes"): a
//     writer killed mid-write never produces a value, corrupted or otherwise.
//     End-of-file exactly between records is a clean end (std::nullopt).
// Seed scenario: "Inter-process communication with queues".
#pragma once

#include <cereal/archives/binary.hpp>
#include <cereal/cereal.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace interleave {

struct codec_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// End-of-file inside a record (its writer stopped mid-record).
struct short_record_error : codec_error {
  using codec_error::codec_error;
};

template <class C, class T>
concept Codec = requires(const T& v, std::span<const std::byte> bytes) {
  { C::encode(v) } -> std::same_as<std::vector<std::byte>>;
  { C::template decode<T>(bytes) } -> std::same_as<T>;
};

namespace detail {

// cereal's binary input format, bounded by the record it reads.
class bounded_input_archive
    : public cereal::InputArchive<bounded_input_archive, cereal::AllowEmptyClassElision> {
 public:
  explicit bounded_input_archive(std::span<const std::byte> bytes)
      : cereal::InputArchive<bounded_input_archive, cereal::AllowEmptyClassElision>(this),
        bytes_(bytes) {}

  void loadBinary(void* data, std::size_t size) {
    if (size > remaining())
      throw codec_error("decode: needs " + std::to_string(size) + " more bytes at offset " +
                        std::to_string(at_) + ", the record has " + std::to_string(remaining()) +
                        " left");
    if (size != 0) std::memcpy(data, bytes_.data() + at_, size);
    at_ += size;
  }
  // A size read from the record (of a string, a container) is checked
  // against the bytes left before the caller allocates for it.
  void check_size(std::uint64_t n) const {
    if (n > remaining())
      throw codec_error("decode: a length field says " + std::to_string(n) +
                        " elements at offset " + std::to_string(at_) + ", the record has only " +
                        std::to_string(remaining()) + " bytes left");
  }
  std::size_t remaining() const noexcept { return bytes_.size() - at_; }

 private:
  std::span<const std::byte> bytes_;
  std::size_t at_ = 0;
};

template <class T>
  requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
void CEREAL_LOAD_FUNCTION_NAME(bounded_input_archive& ar, T& t) {
  ar.loadBinary(std::addressof(t), sizeof(t));
}
// A bool is one byte, 0 or 1; any other byte is refused (loading it into a
// bool would be undefined behaviour).
inline void CEREAL_LOAD_FUNCTION_NAME(bounded_input_archive& ar, bool& b) {
  unsigned char byte = 0;
  ar.loadBinary(&byte, 1);
  if (byte > 1)
    throw codec_error("decode: a bool's byte is " + std::to_string(byte) + ", not 0 or 1");
  b = byte == 1;
}
template <class T>
void CEREAL_SERIALIZE_FUNCTION_NAME(bounded_input_archive& ar, cereal::NameValuePair<T>& t) {
  ar(t.value);
}
template <class T>
void CEREAL_SERIALIZE_FUNCTION_NAME(bounded_input_archive& ar, cereal::SizeTag<T>& t) {
  ar(t.size);
  ar.check_size(static_cast<std::uint64_t>(t.size));
}
template <class T>
void CEREAL_LOAD_FUNCTION_NAME(bounded_input_archive& ar, cereal::BinaryData<T>& bd) {
  ar.loadBinary(bd.data, static_cast<std::size_t>(bd.size));
}

// A std::streambuf that appends to a byte vector (no copy at the end).
class byte_sink : public std::streambuf {
 public:
  explicit byte_sink(std::vector<std::byte>& out) : out_(out) {}

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    const auto* b = reinterpret_cast<const std::byte*>(s);
    out_.insert(out_.end(), b, b + n);
    return n;
  }
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) out_.push_back(static_cast<std::byte>(c));
    return traits_type::not_eof(c);
  }

 private:
  std::vector<std::byte>& out_;
};

}  // namespace detail
}  // namespace interleave

CEREAL_REGISTER_ARCHIVE(interleave::detail::bounded_input_archive)
namespace cereal::traits::detail {
template <>
struct get_output_from_input<interleave::detail::bounded_input_archive> {
  using type = cereal::BinaryOutputArchive;
};
}  // namespace cereal::traits::detail

namespace interleave {

inline constexpr std::size_t frame_header_bytes = 4;
inline constexpr std::size_t default_max_record = std::size_t{64} << 20;

struct cereal_codec {
  static constexpr const char* name = "cereal binary";

  // Appends T's encoding to `out`. On an exception (the value's own
  // serialization threw) `out` is restored and codec_error is thrown.
  // The encoded size of every T, when it is fixed: an arithmetic type is its
  // sizeof(T) bytes (what cereal's binary archive writes for it).
  template <class T>
  static constexpr std::size_t fixed_size() {
    if constexpr (std::is_arithmetic_v<T>)
      return sizeof(T);
    else
      return 0;
  }

  template <class T>
  static void encode_into(std::vector<std::byte>& out, const T& value) {
    if constexpr (std::is_arithmetic_v<T>) {  // the bytes cereal writes, without its stream
      const auto* b = reinterpret_cast<const std::byte*>(&value);
      out.insert(out.end(), b, b + sizeof(T));
      return;
    }
    const std::size_t before = out.size();
    try {
      detail::byte_sink sink(out);
      std::ostream stream(&sink);
      cereal::BinaryOutputArchive archive(stream);
      archive(value);
    } catch (const std::exception& e) {
      out.resize(before);
      throw codec_error(std::string("encode: the value cannot be encoded: ") + e.what());
    }
  }

  template <class T>
  static std::vector<std::byte> encode(const T& value) {
    std::vector<std::byte> out;
    encode_into(out, value);
    return out;
  }

  template <class T>
  static T decode(std::span<const std::byte> bytes) {
    static_assert(std::is_default_constructible_v<T>,
                  "cereal_codec decodes into a default-constructed T");
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {  // cereal's bytes
      if (bytes.size() != sizeof(T))
        throw codec_error("decode: a " + std::to_string(sizeof(T)) +
                          "-byte value, the record has " + std::to_string(bytes.size()) + " bytes");
      T value;
      std::memcpy(&value, bytes.data(), sizeof(T));
      return value;
    }
    T value{};
    detail::bounded_input_archive archive(bytes);
    try {
      archive(value);
    } catch (const codec_error&) {
      throw;
    } catch (const std::exception& e) {
      throw codec_error(std::string("decode: ") + e.what());
    }
    if (archive.remaining() != 0)
      throw codec_error("decode: " + std::to_string(archive.remaining()) +
                        " bytes left over after the value (record of " +
                        std::to_string(bytes.size()) + " bytes)");
    return value;
  }
};

// --- framing ----------------------------------------------------------------

// A whole record (header + payload) of T's encoding; codec_error if it cannot
// be encoded or exceeds max_record.
template <class C, class T>
  requires Codec<C, T>
std::vector<std::byte> encode_record(const T& value, std::size_t max_record = default_max_record) {
  std::vector<std::byte> out(frame_header_bytes);
  if constexpr (requires { C::encode_into(out, value); }) {
    C::encode_into(out, value);
  } else {
    const std::vector<std::byte> payload = C::encode(value);
    out.insert(out.end(), payload.begin(), payload.end());
  }
  const std::size_t n = out.size() - frame_header_bytes;
  if (n > max_record || n > UINT32_MAX)
    throw codec_error("encode: record of " + std::to_string(n) + " bytes exceeds max_record " +
                      std::to_string(max_record));
  for (std::size_t i = 0; i < frame_header_bytes; ++i)
    out[i] = static_cast<std::byte>((n >> (8 * i)) & 0xff);
  return out;
}

// Reads one record with `read_some(std::span<std::byte>) -> std::size_t`
// (returns >= 1 byte, or 0 at end-of-file). Returns the payload, std::nullopt
// at end-of-file between records; short_record_error at end-of-file inside
// one; codec_error for a length over max_record.
template <class ReadSome>
std::optional<std::vector<std::byte>> read_record(ReadSome&& read_some,
                                                  std::size_t max_record = default_max_record) {
  std::byte header[frame_header_bytes];
  std::size_t got = 0;
  while (got < frame_header_bytes) {
    const std::size_t n = read_some(std::span<std::byte>(header + got, frame_header_bytes - got));
    if (n == 0) {
      if (got == 0) return std::nullopt;
      throw short_record_error("short record: expected a " + std::to_string(frame_header_bytes) +
                               "-byte length header, end-of-file after " + std::to_string(got) +
                               " bytes");
    }
    got += n;
  }
  std::size_t length = 0;
  for (std::size_t i = 0; i < frame_header_bytes; ++i)
    length |= std::to_integer<std::size_t>(header[i]) << (8 * i);
  if (length > max_record)
    throw codec_error("read_record: length header says " + std::to_string(length) +
                      " bytes, over max_record " + std::to_string(max_record) +
                      " (a corrupt or foreign stream)");
  std::vector<std::byte> payload(length);
  got = 0;
  while (got < length) {
    const std::size_t n = read_some(std::span<std::byte>(payload.data() + got, length - got));
    if (n == 0)
      throw short_record_error("short record: expected a " + std::to_string(length) +
                               "-byte payload, end-of-file after " + std::to_string(got) +
                               " bytes");
    got += n;
  }
  return payload;
}

}  // namespace interleave
