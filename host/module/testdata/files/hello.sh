#!/bin/sh
echo "args: $*"
pwd
echo "greeting: $GREETING"
echo err >&2
exit "${RC:-0}"
