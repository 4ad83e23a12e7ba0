#!/bin/sh
# Used by modules_exec.yml: prints its arguments and fails when the first is "fail".
echo "args: $*"
[ "$1" != fail ]
