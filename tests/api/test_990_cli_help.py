"""The operator's command line, issue 18 item 5: `atelier --version`,
`atelier help [command]`, and the README agreeing with `--help` (the option
table of the configuration and every command's flags), checked against the
binary's own help so that neither can drift."""
import os
import re
import shutil
import subprocess

from conftest import ATELIER_BIN

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# the commands whose options config.c parses (draft and limits have their own)
CONFIG_COMMANDS = ["serve", "migrate", "logs", "sweep", "populate", "opendata", "rekey"]


def readme():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        return f.read()


def section(text, title):
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else len(text)]


ENTRY_RE = re.compile(r"^  (?:(--[a-z][a-z-]*)(?: ([A-Z][A-Z:]*))?|(ATELIER_[A-Z_]+)=([A-Z]+))(?: |$)")
ORIGIN_RE = re.compile(r"\((env (ATELIER_\w+)|environment only|no environment variable)"
                       r"(?:; default (.*))?\)$")


def help_entries(text):
    """The options of one `--help`: {flag or env: (metavar, env, default)}."""
    entries, cur = {}, None
    for line in text.splitlines():
        m = ENTRY_RE.match(line)
        if m and not line.startswith("  -h, --help"):
            cur = [m.group(1) or m.group(3), m.group(2) or m.group(4) or "", [line[2:].strip()]]
            entries[cur[0]] = cur
        elif cur and line.startswith(" " * 27):
            cur[2].append(line.strip())
        else:
            cur = None
    out = {}
    for key, (k, metavar, parts) in entries.items():
        joined = " ".join(parts)
        o = ORIGIN_RE.search(joined)
        assert o, f"{key}: no (env ...; default ...) in its help: {joined!r}"
        env = o.group(2) if o.group(2) else (key if key.startswith("ATELIER_") else None)
        out[key] = (metavar, env, o.group(3))
    return out


def run(*args):
    return subprocess.run([ATELIER_BIN, *args], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, env={"PATH": os.environ.get("PATH", "")})


def readme_config_table():
    """The README's configuration table: {flag or env: (metavar, env, default)}."""
    rows = {}
    for line in section(readme(), "Configuration").splitlines():
        if not line.startswith("|") or line.startswith("|---") or line.startswith("| flag"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        flag_cell, env_cell, default_cell = cells[0], cells[1], cells[2]
        flag = re.fullmatch(r"`(--[a-z-]+)(?: ([A-Z:]+))?`", flag_cell) if flag_cell else None
        env = env_cell.strip("`") or None
        default = default_cell.replace("`", "") or None
        if flag:
            rows[flag.group(1)] = (flag.group(2) or "", env, default)
        else:
            assert not flag_cell, f"README row with an unreadable flag cell: {line}"
            rows[env] = ("HEX" if env == "ATELIER_KEY" else "", env, default)
    return rows


def test_version_is_the_project_version_and_git_describe():
    r = run("--version")
    assert r.returncode == 0, r.stderr
    with open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
        project = re.search(r"project\(atelier VERSION (\d+\.\d+\.\d+)", f.read()).group(1)
    m = re.fullmatch(r"atelier (\d+\.\d+\.\d+)(\+git\.[A-Za-z0-9._-]+)?\n", r.stdout)
    assert m, r.stdout
    assert m.group(1) == project, (r.stdout, project)
    git = shutil.which("git")
    in_git = git and subprocess.run([git, "-C", ROOT, "rev-parse", "--git-dir"],
                                    capture_output=True).returncode == 0
    if in_git:
        # built from this checkout: the describe part names a commit of it
        assert m.group(2), f"built in a git checkout but no +git part: {r.stdout!r}"
        rev = re.search(r"([0-9a-f]{7,40})(?:-dirty)?$", m.group(2)).group(1)
        assert subprocess.run([git, "-C", ROOT, "cat-file", "-e", rev + "^{commit}"]).returncode == 0
    assert run("version").stdout == r.stdout
    bad = run("--version", "extra")
    assert bad.returncode == 2 and bad.stdout == ""


def test_help_command_is_command_help():
    top = run("--help")
    assert top.returncode == 0
    assert run("help").stdout == top.stdout
    for cmd in CONFIG_COMMANDS + ["draft", "limits"]:
        own = run(cmd, "--help")
        via = run("help", cmd)
        assert own.returncode == 0 and via.returncode == 0, (cmd, own.stderr, via.stderr)
        assert via.stdout == own.stdout, cmd
        assert own.stdout.startswith("usage: atelier " + cmd), (cmd, own.stdout[:80])
    unknown = run("help", "nope")
    assert unknown.returncode == 2 and "unknown command 'nope'" in unknown.stderr
    # the top help lists every command, help and version included
    for cmd in CONFIG_COMMANDS + ["draft", "limits", "help", "version"]:
        assert re.search(rf"^  {cmd} ", top.stdout, re.M), cmd


def test_opendata_build_help_has_its_usage_line():
    for args in (("opendata", "build", "--help"), ("opendata", "--help"), ("help", "opendata")):
        r = run(*args)
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines()[0] == "usage: atelier opendata build [options]", args


def test_readme_configuration_table_is_serve_help():
    """Every option of `atelier serve --help` is a row of the README's table
    with the same metavar, environment variable and default, and the table
    has no other row."""
    r = run("serve", "--help")
    assert r.returncode == 0, r.stderr
    helped = help_entries(r.stdout)
    table = readme_config_table()
    assert "--threads" in helped and "--public-url" in helped
    assert sorted(table) == sorted(helped), (
        f"only in README: {sorted(set(table) - set(helped))}; "
        f"only in --help: {sorted(set(helped) - set(table))}")
    for key, (metavar, env, default) in helped.items():
        assert table[key] == (metavar, env, default), (key, "README", table[key], "--help",
                                                        (metavar, env, default))


def command_entries():
    """The README's Commands block: {command: text of its entry}."""
    block = section(readme(), "Commands")
    code = block[block.index("```\n") + 4: block.index("\n```", block.index("```\n") + 4)]
    entries, cur = {}, None
    for line in code.splitlines():
        m = re.match(r"^atelier (--version|[a-z]+)", line)
        if m:
            cur = m.group(1)
            entries[cur] = line
        elif cur:
            entries[cur] += "\n" + line
    return entries


def test_readme_commands_name_each_command_and_its_own_flags():
    """Each command's own flags (those not in the configuration table) are in
    its README entry, and each flag its entry names is one it accepts."""
    general = set(readme_config_table())
    entries = command_entries()
    for cmd in CONFIG_COMMANDS + ["draft", "limits", "help", "--version"]:
        assert cmd in entries, f"README's Commands block has no `atelier {cmd}`"
    for cmd in CONFIG_COMMANDS + ["draft", "limits"]:
        args = ("opendata", "build", "--help") if cmd == "opendata" else (cmd, "--help")
        out = run(*args).stdout
        accepted = set(re.findall(r"^\s+(--[a-z][a-z-]*)", out, re.M)) | set(
            re.findall(r"\[(--[a-z][a-z-]*)", out)) | set(re.findall(r"\s(--[a-z][a-z-]*)", out))
        accepted.add("--help")  # every command takes it
        named = set(re.findall(r"(--[a-z][a-z-]*)", entries[cmd]))
        assert named <= accepted, f"README names flags {named - accepted} that `atelier {cmd}` lacks"
        if cmd in CONFIG_COMMANDS:
            own = set(help_entries(out)) - general
            own = {k for k in own if k.startswith("--")}
        else:
            own = accepted - {"--help"}  # draft: every flag of its usage
        if own:
            assert own <= named, f"`atelier {cmd}` flags {own - named} are not in its README entry"


def test_help_documents_the_defaults_the_readme_gives():
    """The two defaults the issue found wrong: --threads (the number of
    cores) and --public-url (the listen address)."""
    helped = help_entries(run("serve", "--help").stdout)
    assert helped["--threads"][2] == "the number of cores"
    assert helped["--public-url"][2] == "http://<listen address>"
    out = run("serve", "--help").stdout
    assert "HTTP event threads" in out
