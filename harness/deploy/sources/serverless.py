"""`serverless`: a Serverless Framework service, packaged by `serverless package` (v3).

Serverless turns `serverless.yml` into a CloudFormation template and zip artifacts on the machine;
only `deploy` needs an account. The harness runs npm's `serverless@3` (installed once into the
tool cache, toolchain.py), which packages offline with no account, then reads what it wrote:
`.serverless/cloudformation-template-update-stack.json` and the zips its functions' `Code.S3Key`
names. Each zip is unpacked once (keyed by its content) under the synth cache, and the function's
`Metadata["aws:asset:path"]` points at it, as for a CDK asset, so the deployer runs the packaged
code, exactly what `serverless deploy` would upload.

Cache: when `.serverless/` holds a packaged template newer than every file of the service
(except state folders: scenarios, reports, .harness, .serverless, node_modules, .venv, .git),
it is used as it is: packaging again would give the same template.

Serverless Framework v4 needs a login (an account or a license key) for every command, `package`
included, so it cannot run here. A v4 service (`frameworkVersion: '4'`, or serverless 4 in its own
package.json/node_modules) is packaged with v3 only if it says v3; otherwise an existing
`.serverless/` folder is used (packaged by the team with v4), or the error says how to get one.

Packaging never reaches an AWS account: the command runs with stand-in credentials and the
instance metadata lookup disabled, and with Serverless's telemetry and notifications off.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any, Mapping

from harness.deploy.sources.base import SourceError, SourceSpec, SynthResult, display_path, refuse_context
from harness.state_folders import synth_cache_dir

KIND = "serverless"
SERVERLESS_VERSION = "3"
CONFIG_FILES = ("serverless.yml", "serverless.yaml", "serverless.json", "serverless.js", "serverless.ts")
PACKAGE_DIR = ".serverless"
TEMPLATE_FILE = "cloudformation-template-update-stack.json"
STATE_FILE = "serverless-state.json"
# Folders a service's package never reads: the harness's and the team's state, and Serverless's output.
NOT_SOURCES = frozenset({PACKAGE_DIR, "node_modules", ".harness", "scenarios", "reports", ".venv", ".git",
                         "cdk.out", "__pycache__", ".pytest_cache"})
_FRAMEWORK = re.compile(r"""^\s*["']?frameworkVersion["']?\s*:\s*["']?([^"'\s,#]+)""", re.MULTILINE)
PACKAGE_TIMEOUT_S = 300.0
_QUIET_ENV = {
    "SLS_TELEMETRY_DISABLED": "1", "SLS_TRACKING_DISABLED": "1", "SLS_NOTIFICATIONS_MODE": "off",
    "SLS_DEPRECATION_DISABLE": "*", "SLS_INTERACTIVE_SETUP_DISABLE": "1", "CI": "1",
    "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "shardproof-offline",
    "AWS_SECRET_ACCESS_KEY": "shardproof-offline",
}
V4_HELP = ("Serverless Framework v4 needs a login (a Serverless account or license key) for every command, "
           "`serverless package` included, so the harness cannot run it. Either package the service yourself "
           "(`serverless package`, which writes .serverless/) and the harness reads that folder as it is, or, when "
           "the service uses no v4-only feature, set `frameworkVersion: '3'` and the harness packages it with v3 "
           "offline, with no account")


def config_file(folder: Path) -> Path | None:
    for name in CONFIG_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def major_version(text: str | None) -> int | None:
    """The major version a `frameworkVersion` or npm range names ('3', '^3.38.0', '>=4', '4.x'), or None."""
    if not text:
        return None
    m = re.search(r"\d+", text)
    return int(m.group()) if m else None


def v4_reason(folder: Path, config: Path) -> str | None:
    """Why this service is a v4 one (the file and value that say so), or None."""
    try:
        text = config.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"cannot read {display_path(config)}: {exc}") from None
    m = _FRAMEWORK.search(text)
    if m and (major_version(m.group(1)) or 0) >= 4:
        return f"{display_path(config)} sets frameworkVersion {m.group(1)!r}"
    if m and major_version(m.group(1)) == 3:
        return None  # the service says v3: its own node_modules do not matter, the harness brings v3
    installed = folder / "node_modules" / "serverless" / "package.json"
    if installed.is_file():
        try:
            version = json.loads(installed.read_text(encoding="utf-8")).get("version")
        except (OSError, ValueError):
            version = None
        if (major_version(version) or 0) >= 4:
            return f"{display_path(installed)} is serverless {version}"
    manifest = folder / "package.json"
    if manifest.is_file():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        for section in ("devDependencies", "dependencies"):
            wanted = (data.get(section) or {}).get("serverless") if isinstance(data, dict) else None
            if isinstance(wanted, str) and (major_version(wanted) or 0) >= 4:
                return f"{display_path(manifest)} {section} asks for serverless {wanted!r}"
    return None


def newest_source_mtime(folder: Path) -> float:
    """The latest modification time of any file the package reads (state folders left out)."""
    newest = 0.0
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in NOT_SOURCES]
        for name in files:
            try:
                newest = max(newest, (Path(root) / name).stat().st_mtime)
            except OSError:
                continue
    return newest


class ServerlessSource:
    accepts_context = False

    def __init__(self, spec: SourceSpec, *, cache_dir: Path | None = None) -> None:
        folder = Path(spec.path)
        if folder.is_file() and folder.name in CONFIG_FILES:
            folder = folder.parent
        folder = folder.resolve()
        if not folder.is_dir():
            raise SourceError(f"serverless {display_path(folder)}: no such folder")
        if config_file(folder) is None:
            raise SourceError(f"serverless {display_path(folder)}: no {' / '.join(CONFIG_FILES[:2])} in it "
                              "(the folder of a Serverless Framework service)")
        self.spec = SourceSpec(KIND, folder, spec.stack, spec.watch)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else synth_cache_dir(folder)

    def label(self) -> str:
        return f"Serverless service {display_path(self.spec.path)}"

    @property
    def package_dir(self) -> Path:
        return self.spec.path / PACKAGE_DIR

    def synthesize(self, context: Mapping[str, object] | None = None) -> SynthResult:
        refuse_context(self.label(), context)
        folder = self.spec.path
        config = config_file(folder)
        assert config is not None
        template_path = self.package_dir / TEMPLATE_FILE
        packaged = template_path.is_file()
        fresh = packaged and template_path.stat().st_mtime >= newest_source_mtime(folder)
        notes: list[str] = []
        v4 = v4_reason(folder, config)
        if v4 is not None:
            if not packaged:
                raise SourceError(f"{self.label()}: a Serverless Framework v4 service ({v4}). {V4_HELP}")
            notes.append(f"Serverless v4 service ({v4}): its existing {PACKAGE_DIR}/ is used as packaged"
                         + ("" if fresh else "; it is OLDER than the service's files: run `serverless package` "
                                              "to refresh it"))
        elif not fresh:
            self._package(config)
        else:
            notes.append(f"{PACKAGE_DIR}/ is newer than the service's files: used without packaging again")
        template = self._read_template(template_path)
        self._attach_code(template, notes)
        return SynthResult(template=template, assembly_dir=folder, stack_name=self.spec.stack or self._stack_name(),
                           cached=fresh or v4 is not None, source_label=self.label(), notes=tuple(notes))

    # -- packaging ----------------------------------------------------------------------------

    def _package(self, config: Path) -> None:
        from harness import toolchain

        try:
            modules = toolchain.npm_install([("serverless", SERVERLESS_VERSION)])
        except toolchain.ToolchainError as exc:
            raise SourceError(f"{self.label()}: cannot install serverless@{SERVERLESS_VERSION}: {exc}") from None
        cli = modules / "serverless" / "bin" / "serverless.js"
        node = shutil.which("node")
        if node is None:
            raise SourceError(f"{self.label()}: `serverless package` needs Node.js (`node` is not on PATH)")
        env = {**os.environ, **_QUIET_ENV}
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                     "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE",
                     "AWS_SDK_LOAD_CONFIG"):  # any value, even "0", makes the SDK read ~/.aws/config
            env.pop(name, None)
        argv = [node, str(cli), "package", "--config", config.name]
        try:
            toolchain.run_tool(argv, what=f"{self.label()}: serverless package", cwd=self.spec.path, env=env,
                               timeout_s=PACKAGE_TIMEOUT_S)
        except toolchain.ToolchainError as exc:
            raise SourceError(str(exc)) from None

    def _read_template(self, path: Path) -> dict[str, Any]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SourceError(f"{display_path(path)}: cannot read the packaged template: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
            raise SourceError(f"{display_path(path)}: not a CloudFormation template (no Resources)")
        return data

    def _stack_name(self) -> str:
        """Serverless's own stack name, `<service>-<stage>`, from the state `package` wrote."""
        try:
            state = json.loads((self.package_dir / STATE_FILE).read_text(encoding="utf-8"))["service"]
            service = state["service"]
            service = service.get("name") if isinstance(service, dict) else service
            name = f"{service}-{state['provider']['stage']}"
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            name = self.spec.path.name
        name = re.sub(r"[^A-Za-z0-9-]+", "-", str(name)).strip("-") or "serverless"
        return name if name[0].isalpha() else f"Stack-{name}"

    # -- code ---------------------------------------------------------------------------------

    def _attach_code(self, template: dict[str, Any], notes: list[str]) -> None:
        """Point each function (and layer) at its unpacked zip artifact."""
        for lid, res in template["Resources"].items():
            if not isinstance(res, dict):
                continue
            prop = {"AWS::Lambda::Function": "Code", "AWS::Lambda::LayerVersion": "Content"}.get(res.get("Type", ""))
            location = (res.get("Properties") or {}).get(prop) if prop else None
            if not isinstance(location, dict) or "ZipFile" in location:
                continue
            key = location.get("S3Key")
            if not isinstance(key, str) or not key.endswith(".zip"):
                notes.append(f"{lid}: {prop}.S3Key is not a packaged zip of this service; its code is not local")
                continue
            artifact = self.package_dir / key.rsplit("/", 1)[-1]
            if not artifact.is_file():
                raise SourceError(f"{self.label()}: {lid}'s code {key.rsplit('/', 1)[-1]} is not in "
                                  f"{display_path(self.package_dir)} (run `serverless package` again)")
            metadata = res.setdefault("Metadata", {})
            metadata["aws:asset:path"] = str(self._unpacked(artifact))
            metadata["aws:asset:property"] = prop

    def _unpacked(self, artifact: Path) -> Path:
        """The zip's content, unpacked once per distinct zip under the synth cache."""
        digest = hashlib.sha256(artifact.read_bytes()).hexdigest()[:20]
        target = self.cache_dir / "serverless-code" / digest
        if (target / ".complete").is_file():
            return target
        tmp = target.with_name(f".tmp-{digest}-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            with zipfile.ZipFile(artifact) as zf:
                for info in zf.infolist():
                    dest = (tmp / info.filename).resolve()
                    if not dest.is_relative_to(tmp.resolve()):
                        raise SourceError(f"{display_path(artifact)}: entry {info.filename!r} points outside the zip")
                zf.extractall(tmp)
        except zipfile.BadZipFile as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise SourceError(f"{display_path(artifact)}: not a zip file: {exc}") from None
        (tmp / ".complete").write_text("", encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
        return target


__all__ = ["CONFIG_FILES", "KIND", "ServerlessSource", "V4_HELP", "newest_source_mtime", "v4_reason"]
