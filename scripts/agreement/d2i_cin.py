"""Run the D2I CIN census validator (csc-validator-be-cin) on one CIN XML file.

Usage: python d2i_cin.py --d2i <checkout> --year 2025 --xml <file> --rel 2025/cin_census.xml --out flags.csv

Writes one row per flagged location: file, table, row_id, child_id, rule, la_level.
The D2I tool takes a single year (no previous-year input). Return-level (LA level)
rules are written with an empty child_id and la_level=1.
"""
import argparse, csv, logging, sys
import xml.etree.ElementTree as ET

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--d2i", required=True)
    ap.add_argument("--year", required=True)
    ap.add_argument("--xml", required=True)
    ap.add_argument("--rel", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    sys.path.insert(0, a.d2i)
    logging.disable(logging.WARNING)
    import pandas as pd
    from cin_validator import cin_validator
    from cin_validator.rules.ruleset_utils import get_year_ruleset

    root = ET.parse(a.xml).getroot()
    raw = cin_validator.convert_data(root)
    data = cin_validator.process_data(raw)
    import contextlib, io, json, warnings
    warnings.simplefilter("ignore")
    buf = io.StringIO()
    registry = get_year_ruleset(a.year)
    with contextlib.redirect_stdout(buf):
        v = cin_validator.CinValidator(data, registry)
    failed = sorted({l.split()[3].rstrip(":") for l in buf.getvalue().splitlines()
                     if l.startswith("Error with rule")})
    with open(a.out + ".status.json", "w") as f:
        json.dump({"ran": sorted(map(str, registry.keys())), "failed": failed,
                   "messages": [l for l in buf.getvalue().splitlines() if l.startswith("Error with rule")]}, f)
    df = v.full_issue_df
    n = 0
    with open(a.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "table", "row_id", "child_id", "rule", "la_level"])
        seen = set()
        for _, r in df.iterrows():
            key = (r["tables_affected"], r["row_id"], r["child_id"], r["rule_code"])
            if key in seen:
                continue
            seen.add(key)
            cid = "" if pd.isna(r["child_id"]) else str(r["child_id"])
            w.writerow([a.rel, r["tables_affected"], r["row_id"], cid, r["rule_code"], 0])
            n += 1
        for _, r in v.multichild_issues.drop_duplicates().iterrows():
            w.writerow([a.rel, "", "", "", r["rule_code"], 1])
            n += 1
    print(f"D2I CIN {a.year}: {n} flags; rules broken {len(v.rules_broken)}, passed {len(v.rules_passed)}",
          file=sys.stderr)

if __name__ == "__main__":
    main()
