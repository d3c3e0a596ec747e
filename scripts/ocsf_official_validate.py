#!/usr/bin/env python3
"""Runs the OCSF project's own event validator (ocsf-server's lib/schema/validator2.ex) offline
over a JSONL file, against the schema Warden carries, and prints one line per problem:

    LINE<TAB>error|warning<TAB>code<TAB>attribute_path

then a summary line "N events, E errors, W warnings". With --compare WARDEN, it also runs
`WARDEN ocsf validate --json` on the same file and prints every difference: a problem only the
official validator reports (Warden is more lenient: must never happen) or only Warden reports
(Warden's own stricter checks, docs/validation.md); the exit status is 1 on any problem of the
first kind. A development tool for parity, not part of the build or the tests.

Needs Debian's `elixir` package and a checkout of github.com/ocsf/ocsf-server (only
lib/schema/validator2.ex and lib/schema/utils.ex are loaded; nothing of ocsf-server is copied
into Warden). Without Jason or Phoenix, the schema and the events are handed to Elixir in the
Erlang external term format, written here: the schema with atom keys (as ocsf-server holds it),
the events with string keys (as Jason decodes them).

    scripts/ocsf_official_validate.py --server ~/ocsf-server events.jsonl
    scripts/ocsf_official_validate.py --server ~/ocsf-server --compare build/warden events.jsonl
"""

import argparse
import collections
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SCHEMA = os.path.join(ROOT, "data", "ocsf", "schema-1.7.0.json")


def etf(value, atom_keys, out):
    """Appends `value` in the Erlang external term format (without the version byte)."""
    if value is None:
        atom("nil", out)
    elif value is True:
        atom("true", out)
    elif value is False:
        atom("false", out)
    elif isinstance(value, int):
        if 0 <= value <= 255:
            out += struct.pack(">BB", 97, value)
        elif -(2**31) <= value < 2**31:
            out += struct.pack(">Bi", 98, value)
        else:
            sign = 1 if value < 0 else 0
            mag = -value if value < 0 else value
            digits = mag.to_bytes((mag.bit_length() + 7) // 8, "little")
            out += struct.pack(">BBB", 110, len(digits), sign) + digits
    elif isinstance(value, float):
        out += struct.pack(">Bd", 70, value)
    elif isinstance(value, str):
        b = value.encode("utf-8", "surrogatepass")
        out += struct.pack(">BI", 109, len(b)) + b
    elif isinstance(value, list):
        if not value:
            out += b"\x6a"
            return
        out += struct.pack(">BI", 108, len(value))
        for v in value:
            etf(v, atom_keys, out)
        out += b"\x6a"
    elif isinstance(value, dict):
        out += struct.pack(">BI", 116, len(value))
        for k, v in value.items():
            if atom_keys:
                atom(k, out)
            else:
                etf(k, atom_keys, out)
            etf(v, atom_keys, out)
    else:
        raise TypeError(f"cannot encode {type(value)}")


def atom(name, out):
    b = name.encode("utf-8")
    if len(b) < 256:
        out += struct.pack(">BB", 119, len(b)) + b
    else:
        out += struct.pack(">BH", 118, len(b)) + b


RUNNER = r"""
defmodule Schema do
  def clean_schema(), do: :persistent_term.get(:ocsf_schema)
  def parsed_version(), do: Schema.Utils.parse_version(clean_schema()[:version])
end

[server, schema_file, events_file, recommended] = System.argv()
warn_recommended = recommended == "true"
Code.require_file(Path.join(server, "lib/schema/utils.ex"))
Code.require_file(Path.join(server, "lib/schema/validator2.ex"))
:persistent_term.put(:ocsf_schema, :erlang.binary_to_term(File.read!(schema_file)))
events = :erlang.binary_to_term(File.read!(events_file))

{errors, warnings} =
  Enum.reduce(Enum.with_index(events, 1), {0, 0}, fn {event, line}, {e, w} ->
    if is_map(event) do
      try do
        r = Schema.Validator2.validate(event, warn_recommended)
        for x <- r.errors, do: IO.puts("#{line}\terror\t#{x[:error]}\t#{x[:attribute_path]}")
        for x <- r.warnings, do: IO.puts("#{line}\twarning\t#{x[:warning]}\t#{x[:attribute_path]}")
        {e + r.error_count, w + r.warning_count}
      rescue
        # ocsf-server answers such an event with HTTP 500: it is rejected, without a diagnostic.
        _ ->
          IO.puts("#{line}\terror\tvalidator_crashed\t")
          {e + 1, w}
      end
    else
      IO.puts("#{line}\terror\tevent_not_object\t")
      {e + 1, w}
    end
  end)

IO.puts("#{length(events)} events, #{errors} errors, #{warnings} warnings")
"""


def warden_path(path):
    """`$.a["b c"][0]` (Warden's) -> `a.b c[0]` (the official attribute_path)."""
    def unquote(m):
        return "." + json.loads(m.group(1))
    path = re.sub(r'\[("(?:[^"\\]|\\.)*")\]', unquote, path)
    path = path[1:] if path.startswith("$") else path
    return path[1:] if path.startswith(".") else path


# Warden's stricter code -> the official code it replaces on the same line and path.
STRICTER = {"version_malformed": "version_earlier"}


def compare(official_lines, warden, schema, file, missing_recommended):
    """Diffs the two validators' problems as multisets of (line, severity, code, path)."""
    official = collections.Counter()
    for line in official_lines:
        parts = line.split("\t")
        if len(parts) == 4:
            official[(int(parts[0]), parts[1], parts[2], parts[3])] += 1
    args = [warden, "ocsf", "validate", "--json", "--schema", schema, file]
    if missing_recommended:
        args.append("--missing-recommended")
    out = subprocess.run(args, capture_output=True, text=True).stdout
    ours = collections.Counter()
    for line in out.splitlines():
        j = json.loads(line)
        if "code" in j:
            ours[(j["line"], j["severity"], j["code"], warden_path(j["path"]))] += 1
    # Where the official validator crashed (rejecting the event), Warden must report an error.
    crashed = {p[0] for p in official if p[2] == "validator_crashed"}
    warden_error_lines = {p[0] for p in ours if p[1] == "error"}
    for line in sorted(crashed - warden_error_lines):
        print(f"OFFICIAL CRASHED, WARDEN HAS NO ERROR\t{line}")
    official = collections.Counter({p: n for p, n in official.items() if p[0] not in crashed})
    ours = collections.Counter({p: n for p, n in ours.items() if p[0] not in crashed})
    # Where Warden is stricter by design, its code stands for the official one (docs/validation.md).
    for stricter, official_code in STRICTER.items():
        for p in [p for p in ours if p[2] == stricter]:
            for severity in ("warning", "error"):
                official.pop((p[0], severity, official_code, p[3]), None)
    only_official = sorted((official - ours).elements())
    only_warden = sorted((ours - official).elements())
    for p in only_official:
        print("OFFICIAL ONLY (Warden is more lenient)\t%d\t%s\t%s\t%s" % p)
    for p in only_warden:
        print("WARDEN ONLY\t%d\t%s\t%s\t%s" % p)
    both = sum((official & ours).values())
    lenient = len(only_official) + len(crashed - warden_error_lines)
    print(f"compare: {both} problems in both, {len(only_official)} only official, "
          f"{len(only_warden)} only Warden; {len(crashed)} events crashed the official validator "
          f"({len(crashed - warden_error_lines)} of them without a Warden error)")
    return 1 if lenient else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True, help="ocsf-server checkout (lib/schema/validator2.ex)")
    ap.add_argument("--schema", default=DEFAULT_SCHEMA, help="compiled OCSF schema (default: Warden's)")
    ap.add_argument("--compare", metavar="WARDEN", help="also run WARDEN ocsf validate --json and diff")
    ap.add_argument("--missing-recommended", action="store_true",
                    help="warn about missing recommended attributes (both validators)")
    ap.add_argument("file", help="JSONL, one event per line")
    args = ap.parse_args()

    with open(args.schema, encoding="utf-8") as f:
        schema = json.load(f)
    events = []
    with open(args.file, encoding="utf-8", errors="surrogateescape") as f:
        for n, line in enumerate(f, 1):
            try:
                events.append(json.loads(line))
            except ValueError as e:
                sys.exit(f"{args.file}:{n}: not JSON ({e}); the official validator takes parsed events only")

    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, value, atom_keys in (("schema", schema, True), ("events", events, False)):
            out = bytearray(b"\x83")
            etf(value, atom_keys, out)
            paths[name] = os.path.join(tmp, name + ".etf")
            with open(paths[name], "wb") as f:
                f.write(out)
        runner = os.path.join(tmp, "run.exs")
        with open(runner, "w", encoding="utf-8") as f:
            f.write(RUNNER)
        cmd = ["elixir", runner, args.server, paths["schema"], paths["events"],
               "true" if args.missing_recommended else "false"]
        if not args.compare:
            sys.exit(subprocess.run(cmd).returncode)
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.stderr.write(r.stderr)
            sys.exit(r.returncode)
        lines = r.stdout.splitlines()
        print(lines[-1])
        sys.exit(compare(lines[:-1], args.compare, args.schema, args.file, args.missing_recommended))


if __name__ == "__main__":
    main()
