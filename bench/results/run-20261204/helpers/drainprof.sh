#!/bin/bash
# usage: drainprof.sh LOG OUT — py-spy (GIL samples) on the gateway from the closed loop's end, 40 s
log=$1; out=$2
until grep -q "closed loop:" $log 2>/dev/null; do sleep 0.5; done
pid=$(pgrep -n -f "pakn-gateway serve")
echo "gateway pid $pid at $(date -u +%T)" > $out.info
/work/main/.venv/bin/py-spy record --pid $pid --duration 40 --rate 100 --gil --nonblocking --format raw -o $out >> $out.info 2>&1
echo "done $(date -u +%T)" >> $out.info
