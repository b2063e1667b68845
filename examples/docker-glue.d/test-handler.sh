#!/bin/sh
# Seed 004's demo script: logs `<event> <container id>` and a param of its config file.
[ $# -ne 3 ] && { echo "Usage: $(basename "$0") config.ini status container_id"; exit 1; }
ini="$1"; status="$2"; container_id="$3"
demo=$(sed -n 's/^demo-option=//p' "$ini")
echo "$(date +%F) container_id=[$container_id] status=[$status] ini_demo_option=[$demo]" >> /tmp/docker-glue-test.log
