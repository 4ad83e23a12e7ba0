# Generates parse_kv.json from Ansible's own parse_kv, to pin tally's port of it:
#   python3 testdata/gen_parse_kv.py > testdata/parse_kv.json
import json, sys
from ansible.parsing.splitter import parse_kv
cases = [
    "echo hi chdir=/tmp",
    'cat x | grep "a b"  creates=/x',
    "a=1 b=2",
    "a='x y' b=\"c d\"",
    "echo {{ a }} {{ b | default('x y') }}",
    "echo '{{ a }}' \"q\"",
    "line1\nline2 chdir=/a\n",
    "foo \\\n bar",
    "a\\=b",
    "a\\=b=c",
    "=x",
    "k= v",
    "msg='it''s'",
    "echo \"unterminated",
    "echo {{ unbalanced",
    "{% if x %}a{% endif %} b=1",
    "{# c #} x=1",
    "  a",
    "\nfoo",
    "a  b   c",
    "x=\\u00e9 y=\\n z=\\x41",
    "echo a=b removes=/r warn=no",
    "path=C:\\\\temp",
    "",
    "msg=\"a=b\"",
    "'quoted words' here",
    "echo \"a\nb\" c",
    "a=1\nb=2",
]
out = []
for s in cases:
    for raw in (False, True):
        try:
            res = {"ok": parse_kv(s, check_raw=raw)}
        except Exception as e:
            res = {"error": str(e).split(":")[0]}
        out.append({"in": s, "check_raw": raw, **res})
json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
print()
