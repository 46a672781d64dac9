// Reading capture files through libpcap: pcap (any byte order, micro- or
// nanosecond) and pcapng, from a path, from standard input ("-"), or from
// bytes in memory. Each record becomes a trace::Frame given to a Decoder;
// the decoder's sink receives the SIP messages (see packet_decoder.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "trace/packet_decoder.hpp"
#include "util/result.hpp"

namespace imsflow::trace {

enum class CaptureErrorCode : std::uint8_t {
  OpenFailed,  // no such file, not a capture (bad magic), unsupported version …
};

struct CaptureError {
  CaptureErrorCode code = CaptureErrorCode::OpenFailed;
  std::string detail;  // libpcap's sentence
  /// "cannot read capture x.pcap: unknown file format".
  std::string describe() const;
};

struct CaptureSummary {
  std::uint64_t frames = 0;
  std::uint32_t link_type = 0;  // LINKTYPE_* of the capture (DLT_RAW reported as 101)
  /// Set when reading stopped early (a record cut short at the end of the
  /// file, a corrupt block): what was read before it has been decoded, and
  /// the problem counted as SkipReason::CaptureFileError.
  std::string read_error;
};

/// Reads every record of `path` ("-" for standard input) into `decoder`,
/// then calls decoder.finish(). Fails only when the file cannot be opened
/// as a capture; problems later are reported in the summary.
Result<CaptureSummary, CaptureError> read_capture(const std::string& path, Decoder& decoder);

/// The same over a whole capture file held in memory (through fmemopen(3)).
Result<CaptureSummary, CaptureError> read_capture_bytes(std::string_view file, Decoder& decoder);

}  // namespace imsflow::trace
