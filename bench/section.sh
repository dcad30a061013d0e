# Sourced by the bench/*/run.sh scripts: writes one benchmark's section of
# docs/performance.md, leaving the other sections as they are.

# write_section DOC HEADING FILE: FILE (which starts with HEADING) replaces
# the section from HEADING up to the next level-2 heading; appended when
# DOC has no such section; DOC is created when missing.
write_section() {
    local doc=$1 heading=$2 section=$3

    mkdir -p "$(dirname "$doc")"
    if [ ! -f "$doc" ]; then
        {
            echo "# Performance"
            echo
            echo "Benchmarks of Parley's components, with the command that reproduces"
            echo "each section."
            echo
            cat "$section"
        } >"$doc"
    elif grep -qxF "$heading" "$doc"; then
        awk -v heading="$heading" -v section="$section" '
            $0 == heading {
                while ((getline line < section) > 0)
                    print line
                skipping = 1
                next
            }
            skipping && /^## / {
                skipping = 0
                print ""
            }
            !skipping { print }
        ' "$doc" >"$doc.tmp"
        cat "$doc.tmp" >"$doc"
        rm -f "$doc.tmp"
    else
        {
            echo
            cat "$section"
        } >>"$doc"
    fi
    echo "updated $doc" >&2
}

# shell_words ARG...: the arguments as one line that a shell reads back as
# the same words (each quoted '...' unless made of plain characters), for
# the command a section quotes.
shell_words() {
    local out='' a
    for a in "$@"; do
        case $a in
        '' | *[!A-Za-z0-9_./=:,@%+-]*)
            a="'$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'"
            ;;
        esac
        out="$out${out:+ }$a"
    done
    printf '%s' "$out"
}
