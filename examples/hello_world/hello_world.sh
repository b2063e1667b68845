#!/bin/sh
echo "hello world from a container (run $UUID)"
[ -f /opt/data/input.txt ] && echo "input: $(cat /opt/data/input.txt)"
exit 0
