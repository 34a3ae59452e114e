#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# check-layers.sh - the controller's layers only call downwards (`make
# check-layers`, run by `make test`). Each folder of user/ may include the
# folders listed for it and nothing above:
#
#   base   log, clocks, files
#   model  the configuration model: no BPF, no JSON
#   dp     the only code that touches BPF maps
#   http   HTTP services: reads the model, calls dp
#   proto  the control socket: framing and the commands' grammar
#   run    the controller
#   cli    the client side
#   main.c the binary: the only file that includes run/
#
# Besides the #include lines: only dp/ calls bpf_map_*() or includes libbpf,
# libxdp's loader or a BPF skeleton, and model/ includes no jansson.
# Prints every violation as FILE:LINE: problem and exits 1 if there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A allowed=(
	[base]="base"
	[model]="base model"
	[dp]="base model dp"
	[http]="base model dp http"
	[proto]="base model proto"
	[run]="base model dp http proto run"
	[cli]="base model proto cli"
)

bad=0
report() { # <file:line> <problem>
	echo "$1: $2"
	bad=1
}

for dir in user/*/; do
	layer=$(basename "$dir")
	if [ -z "${allowed[$layer]+x}" ]; then
		report "$dir" "a folder check-layers.sh does not know: give it its layer"
		continue
	fi
	while IFS=: read -r file line text; do
		target=$(sed -E 's/.*#include "([a-z]+)\/.*/\1/' <<<"$text")
		[[ " ${allowed[$layer]} " == *" $target "* ]] ||
			report "$file:$line" "$layer/ may not include $target/ ($text)"
	done < <(grep -HnE '^#include "(base|model|dp|http|proto|run|cli)/' "$dir"*.[ch] || true)
	# A header of user/ named without its folder hides the layer it comes from.
	while IFS=: read -r file line text; do
		report "$file:$line" "name the folder of a user/ header ($text)"
	done < <(grep -HnE '^#include "[a-z_]+\.h"' "$dir"*.[ch] |
		 grep -vE '"limpet_[a-z_]+\.h"' || true)
done

while IFS=: read -r file line text; do
	report "$file:$line" "only dp/ touches BPF maps ($(sed 's/^[[:space:]]*//' <<<"$text"))"
done < <(grep -HnE 'bpf_map(_|__)[a-z_]+\(|#include <bpf/|#include <xdp/libxdp\.h>|\.skel\.h"' \
	 user/*.c user/*/*.[ch] | grep -v '^user/dp/' || true)

while IFS=: read -r file line text; do
	report "$file:$line" "struct dataplane is dp/'s alone ($text)"
done < <(grep -HnE '#include "dp/internal\.h"' user/*.c user/*/*.[ch] tests/*/*.[ch] |
	 grep -v '^user/dp/' || true)

while IFS=: read -r file line text; do
	report "$file:$line" "model/ uses no JSON ($text)"
done < <(grep -HnE '#include <jansson\.h>|json_' user/model/*.[ch] || true)

if [ "$bad" -ne 0 ]; then
	echo "check-layers: the layers above are crossed" >&2
	exit 1
fi
echo "check-layers: ok ($(ls user/*/*.[ch] | wc -l) files in $(ls -d user/*/ | wc -l) layers)"
