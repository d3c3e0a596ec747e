#!/usr/bin/env python3
"""Writes mutated copies of OCSF events, for checking `warden ocsf validate` against the official
validator on events that are wrong in every way the schema allows (docs/validation.md):

    scripts/ocsf_mutate.py --count 20000 --seed 1 events.jsonl > mutated.jsonl
    scripts/ocsf_official_validate.py --server ~/ocsf-server --compare build/warden mutated.jsonl

Each output line is one input event with 1-3 mutations: an attribute removed, nulled, given the
wrong type, an enum value outside or at 99, a caption changed, an unknown or a schema-defined
(possibly deprecated, profile-gated) attribute added, versions, profiles, observables, ranges,
lengths and regex-typed strings. Deterministic for a given --seed.
"""

import argparse
import json
import os
import random
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = os.path.join(ROOT, "data", "ocsf", "schema-1.7.0.json")


def objects_in(event, schema):
    """(dict, attributes-table) for the event and every nested object the schema defines."""
    cls = next((c for c in schema["classes"].values() if c["uid"] == event.get("class_uid")), None)
    if cls is None:
        return [(event, {})]
    out = []

    def walk(obj, attrs, depth):
        out.append((obj, attrs))
        if depth > 6:
            return
        for k, v in list(obj.items()):
            a = attrs.get(k)
            if not a or a.get("type") != "object_t":
                continue
            sub = schema["objects"].get(a.get("object_type"), {}).get("attributes", {})
            for item in (v if isinstance(v, list) else [v]):
                if isinstance(item, dict):
                    walk(item, sub, depth + 1)

    walk(event, cls["attributes"], 0)
    return out


STRINGS = ["", "x", "Other", "Unknown", "999.1.1.1", "10.0.0.1", "::1", "fe80::1%eth0", " 10.0.0.1 ",
           "00:11:22:33:44:55", "00-11-22-33-44-5", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "not-a-uuid",
           "a@b.c", "nobody", "ABCDEF0123", "xyz!", "2026-12-06T10:00:00Z", "2026-12-06 10:00", "aGVsbG8=",
           "1.7.0", "a" * 41, "\u00e9" * 20 + "x" * 21, "GET", "PROPFIND", "get", "Network Activity: Other",
           "1.2.3.4.5", "a\nb"]


def value_for(a, schema, rnd):
    t = a.get("type")
    if a.get("enum") and rnd.random() < 0.7:
        keys = list(a["enum"].keys())
        k = rnd.choice(keys)
        v = int(k) if k.lstrip("-").isdigit() and t != "string_t" else k
    elif t == "object_t":
        v = {}
    elif t in ("integer_t", "long_t", "port_t", "timestamp_t"):
        v = rnd.choice([0, 1, 99, -1, 65536, 70000, 2**31, 2**63 - 1, 2**63, 2**64 - 1, 1.5])
    elif t == "float_t":
        v = rnd.choice([1.5, 2, 0.0, -3.25, 1e300])
    elif t == "boolean_t":
        v = rnd.choice([True, False, 0, "true"])
    elif t == "json_t":
        v = rnd.choice([None, 1, "s", [1, None], {"a": None}])
    else:
        v = rnd.choice(STRINGS)
    return [v] if a.get("is_array") and rnd.random() < 0.8 else v


def mutate(event, schema, rnd):
    places = objects_in(event, schema)
    obj, attrs = rnd.choice(places)
    keys = list(obj.keys())
    kind = rnd.randrange(16)
    if kind == 0 and keys:
        del obj[rnd.choice(keys)]
    elif kind == 1 and keys:
        obj[rnd.choice(keys)] = None
    elif kind == 2 and keys:
        obj[rnd.choice(keys)] = rnd.choice(["s", 1, 1.0, True, [], {}, [None], [1, "a"], 2**64 - 1, -5])
    elif kind == 3:
        ids = [k for k in keys if k.endswith("_id") or k.endswith("_uid") or k.endswith("_ids")]
        if ids:
            k = rnd.choice(ids)
            v = rnd.choice([0, 1, 2, 3, 4, 5, 6, 7, 99, 100, 1000, -1, "1", 99.0, 400199, 400101])
            obj[k] = [v, rnd.choice([1, 99, 7])] if k.endswith("_ids") else v
    elif kind == 4:
        names = [k for k in keys if isinstance(obj[k], str)]
        if names:
            obj[rnd.choice(names)] = rnd.choice(STRINGS)
    elif kind == 5:
        obj[rnd.choice(["zzz_unknown", "container", "bad key", "type"])] = rnd.choice([1, "x", {}])
    elif kind in (6, 7, 8) and attrs:
        name = rnd.choice(list(attrs.keys()))
        obj[name] = value_for(attrs[name], schema, rnd)
    elif kind == 9:
        md = event.setdefault("metadata", {})
        if isinstance(md, dict):
            md["version"] = rnd.choice(["1.6.0", "0.9.0", "1.7.0-rc1", "1.8.0", "1.7.1", "abc", "1.7.00", "1.7",
                                        "2.0.0-dev", "1.7.0", 17])
    elif kind == 10:
        md = event.setdefault("metadata", {})
        if isinstance(md, dict):
            md["profiles"] = rnd.sample(["host", "container", "network_proxy", "security_control", "cloud",
                                         "incident", "datetime", "warp", "linux/linux_users", "osint", 7],
                                        rnd.randrange(0, 5))
    elif kind == 11:
        event["observables"] = [{"name": rnd.choice(["src_endpoint.ip", "device.hostname", "nope", "unmapped.x",
                                                     "answers[0].rdata", "answers.rdata", "device[0].hostname",
                                                     "metadata.profiles[1]", "actor.process.file.name",
                                                     "cloud.region", "", "dst_endpoint"]),
                                 "type_id": rnd.choice([0, 1, 2, 20, 99, 1000])}]
    elif kind == 12:
        for k in ("type_uid", "category_uid", "class_uid", "activity_id"):
            if k in event and rnd.random() < 0.3:
                event[k] = rnd.choice([event[k], event[k] + 1 if isinstance(event[k], int) else 1, 99, 0, "x", None, 1007])
    elif kind == 14 and attrs:
        enums = [n for n, a in attrs.items() if a.get("enum") and a.get("sibling") and "99" in a["enum"]]
        if enums:
            n = rnd.choice(enums)
            obj[n] = [99, 1] if attrs[n].get("is_array") else 99
            obj[attrs[n]["sibling"]] = rnd.choice([["Other", "x"], "Other", "Something"]) \
                if attrs[n].get("is_array") else rnd.choice(["Other", "Something", None])
    elif kind == 15:
        deprecated = [c["uid"] for c in schema["classes"].values() if "@deprecated" in c]
        event["class_uid"] = rnd.choice(deprecated)
    elif kind == 13 and keys:
        k = rnd.choice(keys)
        if isinstance(obj[k], list):
            obj[k] = obj[k][0] if obj[k] else None
        else:
            obj[k] = [obj[k]]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--schema", default=SCHEMA)
    ap.add_argument("file")
    args = ap.parse_args()
    with open(args.schema, encoding="utf-8") as f:
        schema = json.load(f)
    with open(args.file, encoding="utf-8") as f:
        events = [json.loads(line) for line in f if line.strip()]
    rnd = random.Random(args.seed)
    for _ in range(args.count):
        e = json.loads(json.dumps(rnd.choice(events)))
        for _ in range(rnd.randrange(1, 4)):
            mutate(e, schema, rnd)
        sys.stdout.write(json.dumps(e, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
