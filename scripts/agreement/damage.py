"""Make a deliberately damaged copy of a synthetic <la>/<year>/ tree (seeded, reproducible).

Usage: python damage.py <clean_root> <damaged_root> [--seed 42] [--rate 0.03]

SSDA903 CSVs: for a random sample of cells (rate per cell): swap two date fields of
the row, shift a date by +-1..400 days, write an impossible date, replace a code
with another value seen in that column (valid) or with an invalid code, blank the
cell. Also duplicates ~1% of rows (episodes, reviews, missing) right after the original.
CIN XML: the same kinds of change on the leaf elements of <Children>, plus removal of
some elements and duplication of ~0.5% of <Child> blocks.
A log of every change is written to <damaged_root>/damage_log.csv.
"""
import argparse, csv, datetime as dt, os, random, re, shutil
import xml.etree.ElementTree as ET

DATE_UK = re.compile(r"^\d{2}/\d{2}/\d{4}$")
DATE_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")

def shift(v, rng, iso):
    fmt = "%Y-%m-%d" if iso else "%d/%m/%Y"
    d = dt.datetime.strptime(v, fmt) + dt.timedelta(days=rng.choice([-1, 1]) * rng.randint(1, 400))
    return d.strftime(fmt)

def bad_date(iso, rng):
    return rng.choice(["2024-02-30", "2025-13-01"]) if iso else rng.choice(["30/02/2024", "01/13/2025", "2024-05-01"])

def mutate_value(v, col_values, rng, iso):
    """Return (new value, kind)."""
    is_date = bool((DATE_ISO if iso else DATE_UK).match(v or ""))
    r = rng.random()
    if r < 0.2:
        return "", "blank"
    if is_date:
        if r < 0.85:
            return shift(v, rng, iso), "date_shift"
        return bad_date(iso, rng), "bad_date"
    if r < 0.75 and col_values:
        return rng.choice(col_values), "other_code"
    return rng.choice(["XX", "Z9", "99", "ZZZ"]), "invalid_code"

def damage_csv(src, dst, rng, rate, log):
    with open(src, newline="") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2:
        shutil.copy(src, dst); return
    head, body = rows[0], rows[1:]
    col_vals = {j: sorted({r[j] for r in body if j < len(r) and r[j]}) for j in range(len(head))}
    date_cols = [j for j in range(len(head)) if any(DATE_UK.match(r[j]) for r in body[:200] if j < len(r))]
    out = []
    dup_ok = os.path.basename(src) in ("episodes.csv", "reviews.csv", "missing.csv")
    for i, r in enumerate(body):
        r = list(r)
        for j in range(1, len(r)):  # never touch CHILD (column 0)
            if rng.random() >= rate:
                continue
            old = r[j]
            if j in date_cols and old and rng.random() < 0.3:
                others = [k for k in date_cols if k != j and r[k]]
                if others:
                    k = rng.choice(others)
                    r[j], r[k] = r[k], r[j]
                    log.append([src, i + 2, head[j] + "<->" + head[k], old, r[j], "date_swap"]); continue
            new, kind = mutate_value(old, col_vals[j], rng, iso=False)
            r[j] = new
            log.append([src, i + 2, head[j], old, new, kind])
        out.append(r)
        if dup_ok and rng.random() < 0.01:
            out.append(list(r)); log.append([src, i + 2, "*", "", "", "duplicate_row"])
    with open(dst, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n"); w.writerow(head); w.writerows(out)

def damage_xml(src, dst, rng, rate, log):
    tree = ET.parse(src); root = tree.getroot()
    children = root.find("Children")
    vals = {}
    for el in children.iter():
        if len(el) == 0 and el.text and el.text.strip():
            vals.setdefault(el.tag, set()).add(el.text.strip())
    vals = {k: sorted(v) for k, v in vals.items()}
    for ci, child in enumerate(list(children)):
        parents = {c: p for p in child.iter() for c in p}
        for el in list(child.iter()):
            if len(el) != 0 or not (el.text and el.text.strip()) or el.tag == "LAchildID":
                continue
            if rng.random() >= rate:
                continue
            old = el.text.strip()
            if rng.random() < 0.1 and el in parents:
                parents[el].remove(el); log.append([src, ci + 1, el.tag, old, "", "remove"]); continue
            if DATE_ISO.match(old) and rng.random() < 0.3:
                sib = [s for s in parents.get(el, []) if s is not el and len(s) == 0 and s.text and DATE_ISO.match(s.text.strip())]
                if sib:
                    s = rng.choice(sib); el.text, s.text = s.text, el.text
                    log.append([src, ci + 1, el.tag + "<->" + s.tag, old, el.text, "date_swap"]); continue
            new, kind = mutate_value(old, vals.get(el.tag, []), rng, iso=True)
            if old in ("true", "false") and kind in ("other_code", "invalid_code"):
                new = "false" if old == "true" else "true"
            el.text = new
            log.append([src, ci + 1, el.tag, old, new, kind])
    kids = list(children)
    for ci, child in enumerate(kids):
        if rng.random() < 0.005:
            children.insert(list(children).index(child) + 1, ET.fromstring(ET.tostring(child)))
            log.append([src, ci + 1, "Child", "", "", "duplicate_child"])
    ET.indent(tree, space="  ")
    tree.write(dst, encoding="UTF-8", xml_declaration=True)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("clean"); ap.add_argument("damaged")
    ap.add_argument("--seed", type=int, default=42); ap.add_argument("--rate", type=float, default=0.03)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    log = []
    for dirpath, _, names in sorted(os.walk(a.clean)):
        for n in sorted(names):
            src = os.path.join(dirpath, n)
            rel = os.path.relpath(src, a.clean)
            dst = os.path.join(a.damaged, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if n.endswith(".csv") and "ssda903" in rel:
                damage_csv(src, dst, rng, a.rate, log)
            elif n.endswith(".xml") and n.startswith("cin"):
                damage_xml(src, dst, rng, a.rate / 3, log)
            else:
                shutil.copy(src, dst)
    with open(os.path.join(a.damaged, "damage_log.csv"), "w", newline="") as f:
        w = csv.writer(f); w.writerow(["file", "row_or_child", "field", "old", "new", "kind"]); w.writerows(log)
    print(f"damaged copy in {a.damaged}: {len(log)} changes")

if __name__ == "__main__":
    main()
