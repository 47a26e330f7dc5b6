"""Compare cspi's DfE validation findings with the D2I validators' flags, per rule code.

Usage: python compare.py --label clean --data /tmp/agree/clean/925 \
         --cspi /tmp/agree/store-clean/validation/report.csv \
         --d2i903 d2i903-clean-2025.csv d2i903-clean-2024.csv \
         --d2icin d2icin-clean-2025.csv d2icin-clean-2024.csv \
         --cspi-rules 2024=rules2024.txt 2025=rules2025.txt --out <dir>

Keys: SSDA903 = (file, CSV line) and (year, child); CIN = (year, child) only (cspi gives
XML paths, D2I gives per-table row numbers, so rows are compared through the child).
Return-level findings use the key (file, "return"). A rule is compared on a return only
if both tools have it for that year and neither reported it as not run / failed there.
"""
import argparse, collections, csv, json, os, re

def norm(code):
    return re.sub(r"STG[12]$", "", str(code).strip())

STRUCT = set()  # row keys (file, line) and child keys (year, child) with a cspi reader error/warning


def load_cspi(path):
    out = []  # dicts: coll, year, file, rkey, child, rule, field, value, msg
    notes = collections.defaultdict(set)  # (coll, year) -> rules not run
    for r in csv.DictReader(open(path, newline="")):
        f = r["file"]
        year = f.split("/")[0]
        coll = "cin" if f.endswith(".xml") else "ssda903"
        if r["severity"] in ("error", "warning"):  # cspi's own reader checks: row rejected / value dropped
            m = re.match(r"line (\d+)$", r["location"])
            if m:
                STRUCT.add((f, int(m.group(1))))
            if r["child_id"]:
                STRUCT.add((year, r["child_id"]))
        if r["severity"] == "note" and "not run" in r["message"]:
            notes[(coll, year)].add(r["rule"]); continue
        if r["severity"] not in ("dfe_error", "dfe_query"):
            continue
        m = re.match(r"line (\d+)$", r["location"])
        rkey = (f, int(m.group(1))) if m else (f, "return")
        if coll == "cin" and r["child_id"]:
            rkey = (f, r["location"])
        out.append(dict(coll=coll, year=year, file=f, rkey=rkey, child=r["child_id"],
                        rule=r["rule"], field=r["field"], value=r["value"], msg=r["message"]))
    return out, notes

def load_d2i(paths, coll):
    out, status = [], {}
    for p in paths:
        st = json.load(open(p + ".status.json"))
        year = None
        for r in csv.DictReader(open(p, newline="")):
            f = r["file"]; year = f.split("/")[0]
            if coll == "ssda903":
                rkey = (f, int(r["line"])); child = r["child_id"]
            else:
                la = r["la_level"] == "1" or not r["child_id"]
                rkey = (f, "return") if la else (f, r["table"] + "#" + r["row_id"])
                child = "" if la else r["child_id"]
            out.append(dict(coll=coll, year=year, file=f, rkey=rkey, child=child,
                            rule=norm(r["rule"]), table=r.get("table", "")))
        m = re.search(r"(\d{4})\.csv$", p)
        year = year or (m.group(1) if m else None)
        status[year] = {"ran": {norm(c) for c in st.get("ran", [])},
                        "bad": {norm(c) for c in st.get("failed", []) + st.get("skipped", [])}}
    return out, status

def cspi_rules(spec):
    rules = {}
    for item in spec:
        y, p = item.split("=")
        for l in open(p):
            parts = l.split()
            if len(parts) >= 2:
                rules.setdefault((parts[0], y), set()).add(parts[1])
    return rules

def pct(a, b):
    return f"{100*a/b:.1f}%" if b else "n/a"

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", required=True); ap.add_argument("--data", required=True)
    ap.add_argument("--cspi", required=True)
    ap.add_argument("--d2i903", nargs="+", default=[]); ap.add_argument("--d2icin", nargs="+", default=[])
    ap.add_argument("--cspi-rules", nargs="+", required=True); ap.add_argument("--out", required=True)
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--also-without", nargs="*", default=[],
                    help="rule codes to leave out for a second headline (e.g. postcode-derived rules)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    cs, notes = load_cspi(a.cspi)
    crules = cspi_rules(a.cspi_rules)
    md = [f"# cspi vs D2I agreement — {a.label} data\n"]
    per_rule_rows = []
    for coll, paths in (("ssda903", a.d2i903), ("cin", a.d2icin)):
        if not paths:
            continue
        d2, status = load_d2i(paths, coll)
        years = sorted(status)
        compared, excluded = {}, {}
        for y in years:
            cr = crules.get((coll, y), set()); dr = status[y]["ran"] | status[y]["bad"]
            common = cr & dr
            bad = (status[y]["bad"] | notes.get((coll, y), set())) & common
            compared[y] = common - bad
            excluded[y] = {"not run/failed": sorted(bad), "only cspi has": sorted(cr - dr),
                           "only D2I has": sorted(dr - cr)}
        cidx = collections.defaultdict(lambda: collections.defaultdict(list))
        didx = collections.defaultdict(lambda: collections.defaultdict(list))
        for r in cs:
            if r["coll"] == coll and r["year"] in compared and r["rule"] in compared[r["year"]]:
                cidx[r["rule"]][r["year"]].append(r)
        for r in d2:
            if r["year"] in compared and r["rule"] in compared[r["year"]]:
                didx[r["rule"]][r["year"]].append(r)
        tot = collections.Counter(); stats = []
        for rule in sorted(set(cidx) | set(didx)):
            def keys(rows, kind):
                if kind == "child":
                    return {(r["year"], r["child"] or "return:" + r["file"]) for r in rows}
                return {r["rkey"] for r in rows}
            crow = [r for y in cidx[rule] for r in cidx[rule][y]]
            drow = [r for y in didx[rule] for r in didx[rule][y]]
            s = {"collection": coll, "rule": rule}
            for kind in (("row", "child") if coll == "ssda903" else ("child",)):
                ck, dk = keys(crow, kind), keys(drow, kind)
                s[f"{kind}_cspi"] = len(ck); s[f"{kind}_d2i"] = len(dk); s[f"{kind}_both"] = len(ck & dk)
                s[f"{kind}_only_cspi"] = len(ck - dk); s[f"{kind}_only_d2i"] = len(dk - ck)
                for k in ("cspi", "d2i", "both"):
                    tot[f"{kind}_{k}"] += s[f"{kind}_{k}"]
                s[f"{kind}_only_d2i_on_cspi_reader_issue"] = len((dk - ck) & STRUCT)
                tot[f"{kind}_od_struct"] += s[f"{kind}_only_d2i_on_cspi_reader_issue"]
                tot[f"{kind}_od"] += s[f"{kind}_only_d2i"]
                s[f"_{kind}_oc"] = sorted(ck - dk, key=str); s[f"_{kind}_od"] = sorted(dk - ck, key=str)
            stats.append(s)
        main_kind = "row" if coll == "ssda903" else "child"
        n_rules = sum(len(v) for v in compared.values())
        agree = sum(1 for s in stats if s[f"{main_kind}_only_cspi"] == 0 and s[f"{main_kind}_only_d2i"] == 0)
        md.append(f"\n## {coll}\n")
        md.append(f"Rule×return pairs compared: {n_rules} ({', '.join(f'{y}: {len(compared[y])}' for y in years)}); "
                  f"rules flagged by either side: {len(stats)}, of which identical sets: {agree}.\n")
        for kind in (("row", "child") if coll == "ssda903" else ("child",)):
            c, d, b = tot[f"{kind}_cspi"], tot[f"{kind}_d2i"], tot[f"{kind}_both"]
            md.append(f"- by {kind} ({'file, line' if kind=='row' else 'year, child'} × rule): cspi {c}, D2I {d}, both {b}; "
                      f"share of cspi flags D2I also makes (precision-like) {pct(b,c)}; "
                      f"share of D2I flags cspi also makes (recall-like) {pct(b,d)}; Jaccard {pct(b, c+d-b)}; "
                      f"of the {tot[kind+'_od']} D2I-only, {tot[kind+'_od_struct']} are on a {'row' if kind=='row' else 'child'} "
                      f"where cspi's reader rejected the row or dropped a value (error/warning in its report)\n")
        if a.also_without and coll == "ssda903":
            wo = set(a.also_without)
            for kind in (("row", "child") if coll == "ssda903" else ("child",)):
                c = sum(s[f"{kind}_cspi"] for s in stats if s["rule"] not in wo)
                d = sum(s[f"{kind}_d2i"] for s in stats if s["rule"] not in wo)
                b = sum(s[f"{kind}_both"] for s in stats if s["rule"] not in wo)
                md.append(f"- by {kind}, without {' '.join(sorted(wo))}: cspi {c}, D2I {d}, both {b}; "
                          f"precision-like {pct(b,c)}; recall-like {pct(b,d)}; Jaccard {pct(b, c+d-b)}\n")
        for y in years:
            md.append(f"- {y} excluded: " + "; ".join(f"{k}: {' '.join(v) if v else '—'}" for k, v in excluded[y].items()) + "\n")
        md.append(f"\n| rule | cspi | D2I | both | only cspi | only D2I | only D2I on cspi-rejected/cleaned |" + (" children cspi/D2I/both |" if coll == "ssda903" else "") + "\n|---|---|---|---|---|---|---|" + ("---|" if coll == "ssda903" else "") + "\n")
        stats.sort(key=lambda s: -(s[f"{main_kind}_only_cspi"] + s[f"{main_kind}_only_d2i"]))
        for s in stats:
            k = main_kind
            line = f"| {s['rule']} | {s[k+'_cspi']} | {s[k+'_d2i']} | {s[k+'_both']} | {s[k+'_only_cspi']} | {s[k+'_only_d2i']} | {s[k+'_only_d2i_on_cspi_reader_issue']} |"
            if coll == "ssda903":
                line += f" {s['child_cspi']}/{s['child_d2i']}/{s['child_both']} |"
            md.append(line + "\n")
            per_rule_rows.append({kk: v for kk, v in s.items() if not kk.startswith("_")})
        # examples for the top disagreements
        md.append(f"\n### {coll}: examples for the {a.top} largest disagreements\n")
        lines_cache = {}
        def raw_line(f, n):
            if f not in lines_cache:
                p = os.path.join(a.data, f)
                lines_cache[f] = open(p).read().split("\n") if os.path.exists(p) else []
            L = lines_cache[f]
            return f"{L[0]} / {L[n-1]}" if 0 < n <= len(L) else "?"
        for s in stats[:a.top]:
            if s[f"{main_kind}_only_cspi"] + s[f"{main_kind}_only_d2i"] == 0:
                break
            md.append(f"\n**{s['rule']}** — only cspi {s[main_kind+'_only_cspi']}, only D2I {s[main_kind+'_only_d2i']}\n")
            crow = {(r["rkey"] if main_kind == "row" else (r["year"], r["child"] or "return:" + r["file"])): r
                    for y in cidx[s["rule"]] for r in cidx[s["rule"]][y]}
            drow = {(r["rkey"] if main_kind == "row" else (r["year"], r["child"] or "return:" + r["file"])): r
                    for y in didx[s["rule"]] for r in didx[s["rule"]][y]}
            for key in s[f"_{main_kind}_oc"][:3]:
                r = crow[key]
                md.append(f"- only cspi: {r['file']} {r['rkey'][1]} child {r['child']}: {r['field']} = {r['value']}"
                          + (f" — `{raw_line(r['file'], r['rkey'][1])}`" if main_kind == "row" and isinstance(r['rkey'][1], int) else "") + "\n")
            for key in s[f"_{main_kind}_od"][:3]:
                r = drow[key]
                if main_kind == "row":
                    md.append(f"- only D2I: {r['file']} line {r['rkey'][1]} child {r['child']} — `{raw_line(r['file'], r['rkey'][1])}`\n")
                else:
                    md.append(f"- only D2I: {r['file']} child {r['child'] or '(return level)'} ({r['rkey'][1]})\n")
    open(os.path.join(a.out, f"results-{a.label}.md"), "w").write("".join(md))
    if per_rule_rows:
        keys = sorted({k for r in per_rule_rows for k in r}, key=lambda k: (k not in ("collection", "rule"), k))
        with open(os.path.join(a.out, f"per_rule-{a.label}.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=keys); w.writeheader(); w.writerows(per_rule_rows)
    print("".join(l for l in md if not l.startswith("|") and not l.startswith("- only")))

if __name__ == "__main__":
    main()
