#!/usr/bin/env python3
"""Side-by-side benchmark of our libknet.so.1 against the reference (Debian's).

Runs the SAME knet_bench binary (built against the system header, linked by
soname, no RUNPATH) alternately with LD_LIBRARY_PATH=<our build>/src/api
("ours") and without it ("ref"), A B A B ..., and prints medians and ratios
ours/ref as a markdown table.  Our failures are reported as such; the script
never stops because one library fails.

python3 standard library only.  See bench/README.md.
"""

import argparse
import atexit
import datetime
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

DEFAULT_SCENARIOS = [
    "tput-64", "tput-1024", "tput-8192", "tput-64000",
    "tput-1024-crypto", "tput-64000-crypto",
    "tput-1024-nss", "tput-64000-nss",
    "tput-8192-lz4", "tput-64000-crypto-lz4",
    "lat-64", "lat-64-crypto",
    "idle",
    "scale-64",
]

# (json key, label, True if higher is better)
METRICS = {
    "tput": [("msgs_per_s", "msgs/s", True), ("MB_per_s", "MB/s", True),
             ("loss_pct", "loss %", False), ("cpu_s_per_GB", "CPU s/GB", False),
             ("udp_rcvbuf_errors", "UDP queue drops", False)],
    "lat": [("rtt_p50_us", "RTT p50 us", False), ("rtt_p99_us", "RTT p99 us", False)],
    "idle": [("cpu_ms_per_s", "CPU ms/s per process", False)],
    "scale": [("hub_cpu_ms_per_s", "hub CPU ms/s", False),
              ("leaves_cpu_ms_per_s", "leaves CPU ms/s (all)", False),
              ("ping_ratio_min", "pings sent/expected (min link)", True),
              ("ping_gap_max_ms", "max gap between pings ms", False),
              ("latency_avg_us", "hub link latency avg us", False),
              ("latency_max_us", "hub link latency max us", False),
              ("leaf_latency_avg_us", "leaf link latency avg us", False),
              ("link_downs", "link downs", False),
              ("ready_s", "start to all links up s", False)],
}


def port_step(scenario, links):
    """UDP ports one knet_bench run of scenario uses from --port on, plus a margin."""
    parts = scenario.split("-")
    if parts[0] == "scale" and len(parts) > 1 and parts[1].isdigit():
        hosts = int(parts[1])
        span = links + (2 if "sep" in parts[2:] else 1) * hosts * links
        return max(40, span + 10)
    return 40


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def make_netns(mtu):
    """A network namespace whose loopback has this MTU (root and ip(8) needed)."""
    name = "knetbench-%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", name], check=True)
    atexit.register(subprocess.run, ["ip", "netns", "del", name], check=False)
    subprocess.run(["ip", "-n", name, "link", "set", "lo", "up", "mtu", str(mtu)], check=True)
    return name


def run_bench(binary, scenario, seconds, links, lib_dir, port, netns=None):
    """Run one scenario once; return a result dict (always has 'ok')."""
    env = dict(os.environ)
    env.pop("LD_LIBRARY_PATH", None)
    env.pop("LD_PRELOAD", None)
    if lib_dir:
        env["LD_LIBRARY_PATH"] = lib_dir
    cmd = [binary, "--json", "--scenario", scenario, "--seconds", str(seconds),
           "--links", str(links), "--port", str(port)]
    if netns:
        cmd = ["ip", "netns", "exec", netns] + cmd
    # the bench bounds itself; this is the last resort (scale: up to 120 s to start N hosts)
    limit = seconds + (300 if scenario.startswith("scale") else 180)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # our own child's process group
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        return {"ok": False, "error": "timeout after %d s" % limit}
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                res = json.loads(line)
            except ValueError:
                continue
            if res.get("mode") == "idle" and res.get("ok"):
                res["cpu_ms_per_s"] = (res["cpu_ms_per_s_tx"] + res["cpu_ms_per_s_rx"]) / 2
            return res
    if proc.returncode < 0:
        why = "killed by signal %d" % -proc.returncode
    else:
        why = "exit code %d" % proc.returncode
    tail = (err.strip().splitlines() or [""])[-1][:200]
    return {"ok": False, "error": "%s, no result line; %s" % (why, tail)}


def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 1000:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.3g" % v


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", default=os.path.join(ROOT, "build", "src", "api"),
                    help="directory holding our libknet.so.1 (default build/src/api)")
    ap.add_argument("--bin", default=os.path.join(ROOT, "build-ref-tools", "knet_bench"),
                    help="knet_bench built by tools/build-against-reference.sh (built if missing)")
    ap.add_argument("--pairs", type=int, default=3, help="A/B pairs per scenario (default 3)")
    ap.add_argument("--seconds", type=int, default=5, help="measuring time per run (default 5)")
    ap.add_argument("--links", type=int, default=2)
    ap.add_argument("--scenario", action="append", help="scenario (repeatable); default: all")
    ap.add_argument("--port", type=int, default=40000,
                    help="first UDP port (each run moves on by 40, scale-N by the ports it uses)")
    ap.add_argument("--raw", help="also write every result as a JSON line to this file")
    ap.add_argument("--out", help="also write the markdown report to this file")
    ap.add_argument("--mtu", type=int,
                    help="run in a network namespace of our own whose loopback has this MTU "
                         "(e.g. 1500: messages above ~1.4 KB are fragmented, as on ethernet; needs root)")
    ap.add_argument("--ref-only", action="store_true", help="run the reference only")
    ap.add_argument("--ref-vs-ref", action="store_true",
                    help="use a copy of the reference as 'ours': the ratios show this machine's noise")
    args = ap.parse_args()
    tmpdir = None
    if args.ref_vs_ref:
        import shutil
        import tempfile
        tmpdir = tempfile.mkdtemp(prefix="knet-ref-copy-")
        shutil.copy(os.path.realpath("/usr/lib/x86_64-linux-gnu/libknet.so.1"),
                    os.path.join(tmpdir, "libknet.so.1"))
        args.ours = tmpdir

    scenarios = args.scenario or DEFAULT_SCENARIOS
    if not os.path.exists(args.bin):
        print("building %s with tools/build-against-reference.sh" % args.bin, file=sys.stderr)
        subprocess.run([os.path.join(ROOT, "tools", "build-against-reference.sh"),
                        os.path.dirname(args.bin)], check=True)
    ours_lib = os.path.join(args.ours, "libknet.so.1")
    ours_missing = not os.path.exists(ours_lib)

    netns = make_netns(args.mtu) if args.mtu else None
    libs = [("ref", None)] if args.ref_only else [("ours", args.ours), ("ref", None)]
    results = {}  # (scenario, which) -> [result]
    raw = open(args.raw, "w") if args.raw else None
    port = args.port
    started = datetime.datetime.now()
    for scn in scenarios:
        for pair in range(args.pairs):
            for which, lib_dir in libs:
                if which == "ours" and ours_missing:
                    res = {"ok": False, "error": "%s not found (library not built)" % ours_lib}
                else:
                    step = port_step(scn, args.links)
                    if port + step >= 65000:
                        port = 20000
                    res = run_bench(args.bin, scn, args.seconds, args.links, lib_dir, port, netns)
                    port = port + step if port + 2 * step < 65000 else 20000
                    # make sure the intended library was really the one loaded
                    lib = res.get("lib", "")
                    if lib:
                        if which == "ours" and not os.path.realpath(lib).startswith(os.path.realpath(args.ours)):
                            res = {"ok": False, "error": "loaded %s instead of ours" % lib}
                        if which == "ref" and os.path.realpath(args.ours) in os.path.realpath(lib):
                            res = {"ok": False, "error": "loaded ours (%s) instead of the reference" % lib}
                res["which"] = which
                res["scenario"] = scn
                res["pair"] = pair
                results.setdefault((scn, which), []).append(res)
                if raw:
                    raw.write(json.dumps(res) + "\n")
                    raw.flush()
                status = "ok" if res.get("ok") else "FAIL: " + res.get("error", "?")
                print("[%s] %-22s pair %d %-4s %s" % (time.strftime("%H:%M:%S"), scn, pair + 1, which, status),
                      file=sys.stderr, flush=True)
    if raw:
        raw.close()

    lines = []
    lines.append("# knet_bench: ours vs reference")
    lines.append("")
    lines.append("- date: %s (took %s)" % (started.strftime("%Y-%m-%d %H:%M"),
                                           str(datetime.datetime.now() - started).split(".")[0]))
    lines.append("- machine: %s, nproc %d, CPU %s, kernel %s" % (platform.node(), os.cpu_count() or 0,
                                                                cpu_model(), platform.release()))
    lines.append("- ours: %s%s" % (ours_lib, " (MISSING)" if ours_missing else ""))
    lines.append("- ref: the system libknet.so.1 (%s)" % os.path.realpath("/usr/lib/x86_64-linux-gnu/libknet.so.1"))
    lines.append("- loopback MTU: %s" % ("%d (network namespace %s)" % (args.mtu, netns) if netns
                                         else "the host's (64 KiB: nothing below 64000 B is fragmented)"))
    lines.append("- %d pair(s) per scenario, run alternately %s, %d s each, %d link(s); medians of the "
                 "successful runs" % (args.pairs, "ref only" if args.ref_only else "ours, ref, ours, ref ...",
                                      args.seconds, args.links))
    lines.append("")
    cols = ["ours", "ref"] if not args.ref_only else ["ref"]
    hdr = "| scenario | metric | " + " | ".join("%s median" % c for c in cols)
    if not args.ref_only:
        hdr += " | ours/ref | better"
    hdr += " | " + " | ".join("%s ok" % c for c in cols) + " |"
    lines.append(hdr)
    lines.append("|" + "---|" * (hdr.count("|") - 1))
    failures = []
    for scn in scenarios:
        mode = scn.split("-")[0]
        per = {c: results.get((scn, c), []) for c in cols}
        for key, label, higher in METRICS.get(mode, []):
            meds = {}
            for c in cols:
                vals = [r[key] for r in per[c] if r.get("ok") and key in r]
                meds[c] = statistics.median(vals) if vals else None
            row = "| %s | %s | " % (scn, label) + " | ".join(fmt(meds[c]) for c in cols)
            if not args.ref_only:
                o, r = meds["ours"], meds["ref"]
                if o is None or r is None:
                    ratio = "n/a"
                elif r == 0:
                    ratio = "n/a" if o != 0 else "1.00"
                else:
                    ratio = "%.2f" % (o / r)
                row += " | %s | %s" % (ratio, "higher" if higher else "lower")
            row += " | " + " | ".join("%d/%d" % (sum(1 for r in per[c] if r.get("ok")), len(per[c]))
                                      for c in cols) + " |"
            lines.append(row)
        for c in cols:
            for r in per[c]:
                if not r.get("ok"):
                    failures.append("- %s %s: %s" % (scn, c, r.get("error", "?")))
    if failures:
        lines.append("")
        lines.append("## Failed runs")
        # collapse identical messages
        seen = {}
        for f in failures:
            seen[f] = seen.get(f, 0) + 1
        for f, n in seen.items():
            lines.append(f if n == 1 else "%s (x%d)" % (f, n))
    if tmpdir:
        lines.append("")
        lines.append("(ref vs ref: 'ours' was a copy of the reference library in %s)" % tmpdir)
        import shutil
        shutil.rmtree(tmpdir, ignore_errors=True)
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
