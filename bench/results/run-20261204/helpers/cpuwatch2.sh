#!/bin/bash
# every 5 s: CPU % of one core of each child of the newest pakn-gateway serve/supervisor process
out=$1; tick=$(getconf CLK_TCK); declare -A prev
while :; do
  parent=$(pgrep -n -f "pakn-gateway serve|gateway.supervisor")
  line="$(date -u +%T)"
  if [ -n "$parent" ]; then
    for pid in $parent $(pgrep -P $parent); do
      [ -r /proc/$pid/stat ] || continue
      t=$(awk '{print $14+$15}' /proc/$pid/stat)
      rss=$(awk '{print int($2*4/1024)}' /proc/$pid/statm)
      if [ -n "${prev[$pid]}" ]; then line="$line $pid:$(( (t-prev[$pid])*100/(5*tick) ))%/${rss}M"; fi
      prev[$pid]=$t
    done
  fi
  echo "$line" >> $out
  sleep 5
done
