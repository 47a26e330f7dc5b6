"""Run the D2I SSDA903 validator (csc-validator-be-903) on one year's CSVs.

Usage: python d2i_903.py --d2i <checkout> --year 2025 --la-long E10000019 \
         --cur <dir with this year's CSVs> [--prev <dir with last year's CSVs>] \
         --rel-cur 2025/ssda903 [--rel-prev 2024/ssda903] --out flags.csv

Writes one row per flagged (rule, table row): file, line, table, child_id, rule.
`line` is the 1-based line in the CSV (header = line 1), as in cspi's report.
"""
import argparse, csv, glob, logging, os, sys

TABLE_FILES = {
    "Header": "header.csv", "Episodes": "episodes.csv", "Reviews": "reviews.csv",
    "UASC": "uasc.csv", "OC2": "oc2.csv", "OC3": "oc3.csv", "AD1": "ad1.csv",
    "PlacedAdoption": "placed_adoption.csv", "PrevPerm": "prev_perm.csv",
    "Missing": "missing.csv", "SWEpisodes": "sw_episodes.csv",
}

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--d2i", required=True)
    ap.add_argument("--year", required=True)
    ap.add_argument("--la-long", required=True)
    ap.add_argument("--cur", required=True)
    ap.add_argument("--prev")
    ap.add_argument("--rel-cur", required=True)
    ap.add_argument("--rel-prev")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    sys.path.insert(0, a.d2i)
    logging.disable(logging.WARNING)
    import pandas as pd
    from lac_validator import lac_validator
    from lac_validator.rules.ruleset_utils import get_year_ruleset
    from lac_validator.utils import process_uploaded_files

    def csvs(d):  # D2I tells the tables apart by their columns
        return sorted(glob.glob(os.path.join(d, "*.csv")))

    files = {"This year": csvs(a.cur)}
    if a.prev:
        files["Prev year"] = csvs(a.prev)
    registry = get_year_ruleset(a.year)
    v = lac_validator.LacValidator(
        metadata={"collectionYear": a.year, "localAuthority": a.la_long},
        files=process_uploaded_files(files), registry=registry)
    n = 0
    with open(a.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "line", "table", "child_id", "rule"])
        for tname, df in v.ds_results.items():
            if tname == "metadata" or not hasattr(df, "columns"):
                continue
            last = tname.endswith("_last")
            base = tname[:-5] if last else tname
            rel = a.rel_prev if last else a.rel_cur
            if base not in TABLE_FILES or rel is None:
                continue
            fname = f"{rel}/{TABLE_FILES[base]}"
            for col in [c for c in df.columns if str(c).startswith("ERR_")]:
                hit = df[df[col] == True]
                for idx, row in hit.iterrows():
                    w.writerow([fname, int(idx) + 2, base, row.get("CHILD", ""), col[4:]])
                    n += 1
    import json
    with open(a.out + ".status.json", "w") as f:
        json.dump({"ran": list(map(str, v.dones)), "skipped": list(map(str, v.skips)),
                   "failed": list(map(str, v.fails))}, f)
    print(f"D2I 903 {a.year}: {n} flags; rules run {len(v.dones)}, skipped {len(v.skips)}, "
          f"failed {len(v.fails)}: {' '.join(map(str, v.fails))}", file=sys.stderr)

if __name__ == "__main__":
    main()
