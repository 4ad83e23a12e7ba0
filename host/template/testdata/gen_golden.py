#!/usr/bin/env python3
"""Record ansible-core's results for cases.yaml into golden.json.

Run from this directory with ansible-playbook on PATH:  ./gen_golden.py
Each render case becomes a debug task, each cond case a when: on a debug
task, each file case a template task; the json callback reports results.
"""
import json
import os
import subprocess
import tempfile

import yaml

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "cases.yaml")) as fh:
    cases = yaml.safe_load(fh)

work = tempfile.mkdtemp()
tasks = []
for src in cases["render"]:
    tasks.append({"debug": {"msg": src}, "ignore_errors": True})
for cond in cases["cond"]:
    tasks.append({"debug": {"msg": "ran"}, "when": cond, "ignore_errors": True})
for name, text in cases["files"].items():
    with open(os.path.join(work, name + ".j2"), "w") as fh:
        fh.write(text)
    tasks.append({"template": {"src": os.path.join(work, name + ".j2"), "dest": os.path.join(work, name + ".out")},
                  "ignore_errors": True})

play = [{"hosts": "localhost", "gather_facts": False, "vars": cases["vars"], "tasks": tasks}]
with open(os.path.join(work, "play.yml"), "w") as fh:
    yaml.safe_dump(play, fh)

env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOCALHOST_WARNING="false",
           ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_DEPRECATION_WARNINGS="false")
out = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", os.path.join(work, "play.yml")],
                     env=env, capture_output=True, text=True).stdout
results = [t["hosts"]["localhost"] for t in json.loads(out[out.index("{"):])["plays"][0]["tasks"]]


def outcome(res):
    if res.get("failed"):
        return {"error": res.get("msg", "")}
    return None


golden = {"render": [], "cond": [], "files": {}}
it = iter(results)
for src in cases["render"]:
    res = next(it)
    golden["render"].append(outcome(res) or {"value": res["msg"]})
for cond in cases["cond"]:
    res = next(it)
    golden["cond"].append(outcome(res) or {"value": not res.get("skipped", False)})
for name in cases["files"]:
    res = next(it)
    if outcome(res):
        golden["files"][name] = outcome(res)
    else:
        with open(os.path.join(work, name + ".out"), newline="") as fh:  # keep \r\n as written
            golden["files"][name] = {"value": fh.read()}

with open(os.path.join(here, "golden.json"), "w") as fh:
    json.dump(golden, fh, indent=1, sort_keys=True, ensure_ascii=False)
    fh.write("\n")
