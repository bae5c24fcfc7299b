// ci/fuzz/record_decoder_fuzz.cpp — libFuzzer target for the record decoder
// (impl/include/interleave/codec.hpp), built with clang-19
// -fsanitize=fuzzer,address,undefined by ci/fuzz/run.
//
// The input is read twice:
//   1. as a byte stream of length-framed records (read_record, max_record
//      1 MiB, the bytes handed over in pieces the input's first byte chooses,
//      as a pipe may split them), each payload decoded as every type below;
//   2. as one payload, decoded as every type below.
// Allowed outcomes: a value, codec_error (bad bytes), short_record_error
// (end-of-file inside a record), or std::nullopt at a record boundary. Any
// other exception, a crash, a sanitizer report, or an allocation far beyond
// the input (libFuzzer's -malloc_limit_mb) is a finding. Every value decoded
// must re-encode to exactly the payload it came from (the format is
// canonical for these types: no maps or sets, whose duplicate or unsorted
// keys would decode to a different encoding), so a decoder that returned a
// corrupted value is caught too.
#include <interleave/codec.hpp>

#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

namespace {

using interleave::cereal_codec;

template <class T>
void decode_as(std::span<const std::byte> payload) {
  T value;
  try {
    value = cereal_codec::decode<T>(payload);
  } catch (const interleave::codec_error&) {
    return;  // refused with a message: allowed
  }
  const std::vector<std::byte> again = cereal_codec::encode(value);
  if (again.size() != payload.size() || !std::equal(again.begin(), again.end(), payload.begin()))
    std::abort();  // a decoded value that is not what the bytes said
}

void decode_all(std::span<const std::byte> payload) {
  decode_as<int>(payload);
  decode_as<std::uint64_t>(payload);
  decode_as<bool>(payload);
  decode_as<std::string>(payload);
  decode_as<std::vector<int>>(payload);
  decode_as<std::vector<std::string>>(payload);
  decode_as<std::variant<std::uint64_t, std::string>>(payload);  // the seed queue's item
  decode_as<std::tuple<int, int, std::string>>(payload);
  decode_as<std::optional<std::vector<std::uint64_t>>>(payload);
  decode_as<std::vector<bool>>(payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  // 1. a stream of records, handed over in pieces of 1..16 bytes
  const std::size_t piece = size == 0 ? 1 : 1 + std::to_integer<std::size_t>(in[0]) % 16;
  std::size_t at = 0;
  const auto read_some = [&](std::span<std::byte> out) {
    const std::size_t n = std::min({out.size(), piece, size - at});
    std::copy_n(in.begin() + static_cast<std::ptrdiff_t>(at), n, out.begin());
    at += n;
    return n;
  };
  try {
    while (const auto payload = interleave::read_record(read_some, std::size_t{1} << 20))
      decode_all(*payload);
  } catch (const interleave::codec_error&) {  // short_record_error included
  }
  // 2. the whole input as one payload
  decode_all(in);
  return 0;
}
