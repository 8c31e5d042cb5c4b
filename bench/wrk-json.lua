-- Prints one JSON line with wrk's summary, for bench/run.py to read.
done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests":%d,"duration_s":%.3f,"rps":%.1f,"errors":%d,"non2xx":%d,"p50_ms":%.2f,"p99_ms":%.2f}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
