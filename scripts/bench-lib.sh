# Shared by the bench scripts: replaces (or appends) the section between
# `<!-- NAME:start -->` and `<!-- NAME:end -->` in BENCHMARKS.md.
write_section() {
  local name=$1 body=$2 file=${BENCH_FILE:-BENCHMARKS.md}
  [ -f "$file" ] || printf '# weelo-rs benchmarks\n\nEvery figure here comes from a command in this repository; rerun it to check.\n\n' > "$file"
  local section
  section=$(printf '<!-- %s:start -->\n%s\n<!-- %s:end -->' "$name" "$body" "$name")
  python3 - "$file" "$name" "$section" <<'PY'
import re, sys
path, name, section = sys.argv[1:4]
text = open(path).read()
pattern = re.compile(r'<!-- %s:start -->.*?<!-- %s:end -->' % (re.escape(name), re.escape(name)), re.S)
text = pattern.sub(lambda m: section, text) if pattern.search(text) else text.rstrip('\n') + '\n\n' + section + '\n'
open(path, 'w').write(text)
PY
  echo "bench: $name written to $file"
}

machine() {
  printf '%s cores (%s)' "$(nproc)" "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
}
