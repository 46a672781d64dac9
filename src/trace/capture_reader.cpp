#include "trace/capture_reader.hpp"

#include <pcap/pcap.h>

#include <cstdio>
#include <memory>

namespace imsflow::trace {

namespace {

struct PcapCloser {
  void operator()(pcap_t* p) const noexcept { pcap_close(p); }
};

Result<CaptureSummary, CaptureError> read_all(pcap_t* raw, Decoder& decoder) {
  std::unique_ptr<pcap_t, PcapCloser> p(raw);
  CaptureSummary summary;
  int dlt = pcap_datalink(p.get());
  if (dlt == DLT_RAW) dlt = static_cast<int>(kLinkRaw);
  summary.link_type = static_cast<std::uint32_t>(dlt);
  const bool nano = pcap_get_tstamp_precision(p.get()) == PCAP_TSTAMP_PRECISION_NANO;
  while (true) {
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(p.get(), &header, &data);
    if (rc == PCAP_ERROR_BREAK) break;  // end of file
    if (rc != 1) {
      summary.read_error = pcap_geterr(p.get());
      decoder.count_skipped(SkipReason::CaptureFileError);
      break;
    }
    ++summary.frames;
    Frame f;
    f.timestamp_ns = static_cast<std::int64_t>(header->ts.tv_sec) * 1'000'000'000 +
                     static_cast<std::int64_t>(header->ts.tv_usec) * (nano ? 1 : 1'000);
    f.number = summary.frames;
    f.link_type = summary.link_type;
    f.bytes = std::string_view(reinterpret_cast<const char*>(data), header->caplen);
    f.original_length = header->len;
    decoder.decode(f);
  }
  decoder.finish();
  return summary;
}

}  // namespace

std::string CaptureError::describe() const { return "cannot read capture: " + detail; }

Result<CaptureSummary, CaptureError> read_capture(const std::string& path, Decoder& decoder) {
  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, error);
  if (p == nullptr) return Unexpected{CaptureError{CaptureErrorCode::OpenFailed, path + ": " + error}};
  return read_all(p, decoder);
}

Result<CaptureSummary, CaptureError> read_capture_bytes(std::string_view file, Decoder& decoder) {
  if (file.empty()) return Unexpected{CaptureError{CaptureErrorCode::OpenFailed, "empty capture"}};
  // fmemopen only reads through the pointer in "r" mode.
  std::FILE* stream = fmemopen(const_cast<char*>(file.data()), file.size(), "rb");
  if (stream == nullptr) return Unexpected{CaptureError{CaptureErrorCode::OpenFailed, "fmemopen failed"}};
  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_fopen_offline_with_tstamp_precision(stream, PCAP_TSTAMP_PRECISION_NANO, error);
  if (p == nullptr) {
    std::fclose(stream);
    return Unexpected{CaptureError{CaptureErrorCode::OpenFailed, error}};
  }
  return read_all(p, decoder);  // pcap_close closes the stream
}

}  // namespace imsflow::trace
