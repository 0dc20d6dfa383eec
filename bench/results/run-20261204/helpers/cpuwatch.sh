#!/bin/bash
# every 5 s: the newest pakn-gateway serve process's CPU % of one core over the last 5 s
out=$1; tick=$(getconf CLK_TCK); prev=""; 
while :; do
  pid=$(pgrep -n -f "pakn-gateway serve")
  if [ -n "$pid" ] && [ -r /proc/$pid/stat ]; then
    t=$(awk '{print $14+$15}' /proc/$pid/stat)
    if [ -n "$prev" ] && [ "$ppid" = "$pid" ]; then echo "$(date -u +%T) pid $pid cpu $(( (t-prev)*100/(5*tick) ))%" >> $out; fi
    prev=$t; ppid=$pid
  fi
  sleep 5
done
