"""The benchmark's page audit: Lighthouse (mobile, Debian Chromium) on a running store.

python bench/lighthouse.py BASE_URL PATH [PATH ...]  -> a table, one row per page

Each page is audited RUNS times (Lighthouse's mobile preset: a mid-range phone, simulated slow
4G and CPU); the run with the median performance score is reported, with its largest
contentful paint, bytes and requests. Lighthouse comes from bench/package.json (`npm install
--prefix bench ...`), Chromium from Debian (`make browser`).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "bench" / "node_modules" / ".bin" / "lighthouse"
RUNS = 3
# Scores out of 100: a page below either is reported with the audits that cost it points.
PERFORMANCE_TARGET = 95
ACCESSIBILITY_TARGET = 100
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync"
)
# A performance audit below this score (0 to 1) is named among a slow page's failing audits.
AUDIT_PASS = 0.9
# What a page that could not be measured has no figure for.
UNMEASURED = ("performance", "accessibility", "lcp_ms", "bytes", "requests")


class LighthouseError(Exception):
    """Lighthouse or Chromium is not installed."""


def chromium():
    path = os.environ.get("CHROME_PATH") or shutil.which("chromium")
    if not path:
        raise LighthouseError("Chromium is missing: `make browser` installs Debian's.")
    return path


def lighthouse_once(url, chrome):
    """One Lighthouse run of `url`: (its JSON report, None), or (None, why it failed). A run
    that leaves a score out (NO_NAVSTART, now and then) failed: null is not a score of 0."""
    with tempfile.TemporaryDirectory(prefix="lighthouse-") as folder:
        out = Path(folder) / "report.json"
        try:
            done = subprocess.run(
                [
                    str(LIGHTHOUSE), url,
                    f"--chrome-flags={CHROME_FLAGS}",
                    "--only-categories=performance,accessibility",
                    "--output=json", f"--output-path={out}", "--quiet",
                ],
                env={**os.environ, "CHROME_PATH": chrome},
                capture_output=True, text=True, timeout=180, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return None, "timed out"
        if not out.is_file():
            return None, f"exit {done.returncode}: {done.stderr.strip()[-200:]}"
        report = json.loads(out.read_text())
    error = (report.get("runtimeError") or {}).get("code")
    if error or any(c["score"] is None for c in report["categories"].values()):
        return None, error or "a score is missing"
    return report, None


def lighthouse(url, chrome):
    """A report of `url`, trying a failed run once more: (report, None) or (None, why)."""
    report, error = lighthouse_once(url, chrome)
    if report is None:
        report, error = lighthouse_once(url, chrome)
    return report, error


def failing_audits(report, performance, accessibility):
    """Ids of the audits that cost a page points, when it is below a target."""
    audits = report["audits"]
    failing = []
    if performance < PERFORMANCE_TARGET:
        for ref in report["categories"]["performance"]["auditRefs"]:
            score = audits[ref["id"]]["score"]
            # The scored metrics and the diagnostics that say why they are slow (not the
            # hidden insights, which repeat the diagnostics).
            if score is not None and score < AUDIT_PASS and ref.get("group") != "hidden":
                failing.append(ref["id"])
    if accessibility < ACCESSIBILITY_TARGET:
        for ref in report["categories"]["accessibility"]["auditRefs"]:
            score = audits[ref["id"]]["score"]
            if ref["weight"] and score is not None and score < 1:
                failing.append(ref["id"])
    return failing


def summary(report):
    audits = report["audits"]
    categories = report["categories"]
    return {
        "performance": round(categories["performance"]["score"] * 100),
        "accessibility": round(categories["accessibility"]["score"] * 100),
        "lcp_ms": round(audits["largest-contentful-paint"]["numericValue"]),
        "bytes": round(audits["total-byte-weight"]["numericValue"]),
        "requests": len(audits["network-requests"]["details"]["items"]),
    }


def audit(base_url, pages):
    """Lighthouse on each (name, path) of `pages` at `base_url`, RUNS times; per page, the run
    with the median performance score: name, path, performance and accessibility (0 to 100),
    lcp_ms, bytes, requests, performance_runs (every run's score), and `failing`: the ids of
    the audits that cost it points when it is below PERFORMANCE_TARGET or ACCESSIBILITY_TARGET.
    A page with a run that failed twice is not measured: its scores are None and `error` says
    why."""
    if not LIGHTHOUSE.exists():
        raise LighthouseError(
            "Lighthouse is missing: npm install --prefix bench --no-package-lock --no-audit "
            "--no-fund"
        )
    chrome = chromium()
    results = []
    for name, path in pages:
        url = base_url.rstrip("/") + path
        runs = []
        for _ in range(RUNS):
            report, error = lighthouse(url, chrome)
            if report is None:
                break
            runs.append((summary(report), report))
        if error:
            results.append({"name": name, "path": path, **dict.fromkeys(UNMEASURED),
                            "performance_runs": [], "failing": [], "error": error})  # fmt: skip
            continue
        runs.sort(key=lambda run: run[0]["performance"])
        median, report = runs[len(runs) // 2]
        results.append(
            {
                "name": name,
                "path": path,
                **median,
                "performance_runs": [run["performance"] for run, _ in runs],
                "failing": failing_audits(report, median["performance"], median["accessibility"]),
                "error": None,
            }
        )
    return results


def passed(page):
    return page["error"] is None and (
        page["performance"] >= PERFORMANCE_TARGET and page["accessibility"] >= ACCESSIBILITY_TARGET
    )


def markdown(results):
    """The audit as the lines of a Markdown table, for the bench report."""
    lines = [
        "| Page | performance | accessibility | LCP ms | KiB | requests | failing audits |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for page in results:
        if page["error"]:
            lines.append(f"| {page['name']} | | | | | | not measured: {page['error']} |")
            continue
        lines.append(
            f"| {page['name']} | {page['performance']} | {page['accessibility']} | "
            f"{page['lcp_ms']} | {page['bytes'] / 1024:.0f} | {page['requests']} | "
            f"{', '.join(page['failing']) or '-'} |"
        )
    return lines


def main(argv):
    if len(argv) < 3:
        sys.exit(f"usage: {argv[0]} BASE_URL PATH [PATH ...]")
    results = audit(argv[1], [(path, path) for path in argv[2:]])
    print("\n".join(markdown(results)))
    for page in results:
        print(f"{page['path']}: performance of each run {page['performance_runs']}")
    return 0 if all(passed(page) for page in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
