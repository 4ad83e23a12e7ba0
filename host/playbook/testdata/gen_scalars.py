# Generates scalars.json from PyYAML (which Ansible uses, YAML 1.1), to pin how tally types
# plain scalars:
#   python3 testdata/gen_scalars.py > testdata/scalars.json
import datetime, json, math, sys
import yaml
cases = [
    "yes", "Yes", "YES", "no", "NO", "on", "Off", "true", "False", "y", "n", "yEs",
    "~", "null", "Null", "NULL", "", "nul",
    "0", "7", "-7", "+7", "0644", "0o644", "0x1F", "-0x1f", "0b101", "1_000", "190:20:30", "09", "0_7",
    "1.5", "-1.5", "1.", ".5", "1e3", "1.0e+3", "1.0e3", "6.8523015e+5", "1_000.5", "190:20:30.15",
    ".inf", "-.Inf", ".NaN", "1.2.3",
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5",
    "hello", "0.1.2", "+", "0x", "1:2",
]
out = []
for s in cases:
    v = yaml.safe_load("v: " + s)["v"] if s else None
    if isinstance(v, bool):
        t = "bool"
    elif v is None:
        t = "null"
    elif isinstance(v, int):
        t = "int"
    elif isinstance(v, float):
        t = "float"
        if math.isnan(v) or math.isinf(v):
            v = repr(v)
    elif isinstance(v, (datetime.date, datetime.datetime)):
        t, v = "timestamp", s
    else:
        t = "str"
    out.append({"in": s, "type": t, "value": v if t != "int" else str(v)})
json.dump(out, sys.stdout, indent=1)
print()
