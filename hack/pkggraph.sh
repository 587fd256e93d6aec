#!/bin/sh
# pkggraph.sh prints, for every package of the module, its non-test Go line
# count and the module's own packages it imports: the figures of issue 13's
# closing note, and a quick look at the layering after a change.
#
# Usage: hack/pkggraph.sh [lines|imports]   (default: both)
set -eu
cd "$(dirname "$0")/.."
mod=$(go list -m)
what=${1:-both}

if [ "$what" = lines ] || [ "$what" = both ]; then
	echo "# non-test lines per package"
	go list -f '{{.Dir}} {{.ImportPath}} {{join .GoFiles " "}} {{join .CgoFiles " "}}' ./... |
		while read -r dir pkg files; do
			n=0
			for f in $files; do
				n=$((n + $(wc -l <"$dir/$f")))
			done
			printf '%6d  %s\n' "$n" "${pkg#"$mod"/}"
		done
fi

if [ "$what" = imports ] || [ "$what" = both ]; then
	echo "# imports among the module's packages (non-test)"
	go list -f '{{.ImportPath}}{{range .Imports}} {{.}}{{end}}' ./... |
		while read -r pkg imports; do
			own=""
			for i in $imports; do
				case $i in "$mod"/*) own="$own ${i#"$mod"/}" ;; esac
			done
			printf '%s ->%s\n' "${pkg#"$mod"/}" "${own:- (none)}"
		done
fi
