#!/bin/bash
# usage: run1.sh SRC_DIR OUT_DIR NAME bench-args...
d=$1; out=$2; name=$3; shift 3
mkdir -p $out
while :; do l=$(cut -d' ' -f1 /proc/loadavg); awk -v l=$l 'BEGIN{exit !(l<=1.5)}' && break; sleep 10; done
echo "$(date -u +%H:%M:%S) start $name (load $(cut -d' ' -f1-3 /proc/loadavg)) src=$d rev=$(git -C $d rev-parse --short HEAD) args: $*" >> $out/steps.log
cd $d && PYTHONPATH=$d /work/main/.venv/bin/python "$@" > $out/$name.log 2>&1
echo "$(date -u +%H:%M:%S) end $name rc=$?" >> $out/steps.log
