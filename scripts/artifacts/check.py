"""Load what would ship: every function of template.yaml, cold-started from its layer and artifact.

Run by scripts/check-artifacts (with the aws-tools venv's Python, which has the SAM template
parser). For each `AWS::Serverless::LayerVersion` built from a requirements file, the layer is
installed for this machine's platform with the functions' Python (pip --target, cached by the
requirements file's hash and reused); each `AWS::Serverless::Function` is built the way
`sam build` builds it (its Makefile, from a copy of its CodeUri); then each handler is imported
and the execution environment built in an isolated interpreter (scripts/artifacts/cold_start.py)
with the function's environment from the template, intrinsic functions resolved to plausible
stand-ins (ARNs, names, URLs). Any failure fails the check.

The layer is also held to the versions the tests run with: every distribution installed in it
must be pinned in its requirements file (a dependency left unpinned drifts with every build) at
the version constraints.txt pins; and where `sam build` has built the arm64 layer that ships
from the same file (.aws-sam/build, as `make template` leaves it), that layer must hold the same
distributions as the one loaded here.
"""

# ruff: noqa: S603, S607 - it runs the interpreter, pip and make it is given, on this repository

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import importlib.metadata
import json
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse  # reads !Ref, !Sub, ... as {"Ref": ...}

ROOT = Path(__file__).resolve().parents[2]
COLD_START = Path(__file__).with_name("cold_start.py")

# Stand-ins for the pseudo parameters and for parameters without a default.
REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "filestore-check"
STACK_UUID = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": STACK,
    "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/{STACK_UUID}",
}
PARAMETER_STAND_INS = {"String": "example", "Number": "1", "CommaDelimitedList": ""}
EMAIL_STAND_IN = "filestore@example.com"


class NoValue:
    """`!Ref AWS::NoValue`: the property (here: the variable) is left out."""


class Unresolvable(Exception):
    """An intrinsic function this check cannot give a value to."""


# --- the template -----------------------------------------------------------------------------


@dataclass
class Template:
    document: dict[str, Any]

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.document["Resources"]
        return resources

    def resource_type(self, name: str) -> str:
        return str(self.resources[name]["Type"])

    def parameter(self, name: str) -> str:
        spec = self.document.get("Parameters", {})[name]
        if "Default" in spec:
            return str(spec["Default"])
        if "@" in str(spec.get("AllowedPattern", "")):
            return EMAIL_STAND_IN
        return PARAMETER_STAND_INS.get(str(spec.get("Type")), "example")

    def condition(self, name: str) -> bool:
        return bool(self.evaluate(self.document.get("Conditions", {})[name]))

    # Resource values: what Ref and GetAtt give once deployed, with this check's stand-ins.

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NoValue()
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.document.get("Parameters", {}):
            return self.parameter(name)
        kind = self.resource_type(name)
        physical = f"{STACK}-{name}"
        by_type: dict[str, str] = {
            "AWS::S3::Bucket": physical.lower(),
            "AWS::SNS::Topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:{physical}",
            "AWS::SQS::Queue": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{physical}",
            "AWS::Cognito::UserPool": f"{REGION}_Ch3ck0000",
            "AWS::Cognito::UserPoolClient": "1a2b3c4d5e6f7g8h9i0j1k2l3m",
            "AWS::ApiGatewayV2::Api": "a1b2c3d4e5",
            "AWS::SecretsManager::Secret": (
                f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{physical}-AbCdEf"
            ),
            "AWS::KMS::Key": "0a1b2c3d-0000-4000-8000-000000000000",
        }
        return by_type.get(kind, physical)

    def get_att(self, name: str, attribute: str) -> str:
        kind = self.resource_type(name)
        physical = f"{STACK}-{name}"
        service = kind.split("::")[1].lower()
        function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{physical}"
        known = {
            ("AWS::RDS::DBCluster", "DBClusterArn"): (
                f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:{physical.lower()}"
            ),
            ("AWS::RDS::DBCluster", "MasterUserSecret.SecretArn"): (
                f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!cluster-{STACK_UUID}-AbCdEf"
            ),
            ("AWS::Cognito::UserPool", "ProviderURL"): (
                f"cognito-idp.{REGION}.amazonaws.com/{self.ref(name)}"
            ),
            ("AWS::SQS::Queue", "QueueName"): physical,
            ("AWS::SQS::Queue", "QueueUrl"): str(self.ref(name)),
            ("AWS::SNS::Topic", "TopicName"): physical,
            ("AWS::SNS::Topic", "TopicArn"): str(self.ref(name)),
            ("AWS::S3::Bucket", "Arn"): f"arn:aws:s3:::{self.ref(name)}",
            ("AWS::S3::Bucket", "DomainName"): f"{self.ref(name)}.s3.amazonaws.com",
            ("AWS::Serverless::Function", "Arn"): function_arn,
            ("AWS::Lambda::Function", "Arn"): function_arn,
        }
        if (kind, attribute) in known:
            return known[(kind, attribute)]
        if attribute == "Arn" or attribute.endswith("Arn"):
            return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{physical}"
        if attribute.endswith(("Id", "Name")):
            return physical
        raise Unresolvable(f"!GetAtt {name}.{attribute} ({kind})")

    def substitute(self, text: str, variables: Mapping[str, Any]) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.evaluate(variables[name]))
            if "." in name and name.split(".")[0] in self.resources:
                resource, attribute = name.split(".", 1)
                return self.get_att(resource, attribute)
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def evaluate(self, node: Any) -> Any:
        """The value of `node` once deployed, with stand-ins for what only a deploy knows."""
        if isinstance(node, list):
            return [v for v in (self.evaluate(n) for n in node) if not isinstance(v, NoValue)]
        if not isinstance(node, dict):
            return node
        if len(node) != 1:
            return {k: self.evaluate(v) for k, v in node.items()}
        [(key, value)] = node.items()
        functions: dict[str, Callable[[Any], Any]] = {
            "Ref": lambda v: self.ref(v),
            "Fn::GetAtt": lambda v: self.get_att(*(v.split(".", 1) if isinstance(v, str) else v)),
            "Fn::Sub": lambda v: (
                self.substitute(v, {}) if isinstance(v, str) else self.substitute(v[0], v[1])
            ),
            "Fn::Join": lambda v: str(v[0]).join(str(x) for x in self.evaluate(v[1])),
            "Fn::Select": lambda v: self.evaluate(v[1])[int(self.evaluate(v[0]))],
            "Fn::Split": lambda v: str(self.evaluate(v[1])).split(str(v[0])),
            "Fn::If": lambda v: self.evaluate(v[1] if self.condition(v[0]) else v[2]),
            "Fn::Equals": lambda v: self.evaluate(v[0]) == self.evaluate(v[1]),
            "Fn::Not": lambda v: not self.evaluate(v[0]),
            "Fn::And": lambda v: all(self.evaluate(x) for x in v),
            "Fn::Or": lambda v: any(self.evaluate(x) for x in v),
            "Condition": lambda v: self.condition(v),
        }
        if key in functions:
            return functions[key](value)
        if key.startswith("Fn::"):
            raise Unresolvable(f"{key} {value!r}")
        return {key: self.evaluate(value)}


@dataclass
class Function:
    name: str
    handler: str
    environment: dict[str, str]
    code_uri: Path
    makefile: Path
    layers: list[str]
    runtime: str


def functions_of(template: Template) -> list[Function]:
    globals_ = template.document.get("Globals", {}).get("Function", {})
    found = []
    for name, resource in sorted(template.resources.items()):
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = {**globals_, **resource.get("Properties", {})}
        metadata = resource.get("Metadata", {})
        if metadata.get("BuildMethod") != "makefile":
            raise SystemExit(f"{name}: only functions built by a Makefile are checked here")
        variables = {
            **globals_.get("Environment", {}).get("Variables", {}),
            **resource.get("Properties", {}).get("Environment", {}).get("Variables", {}),
        }
        environment = {}
        for variable, value in variables.items():
            resolved = template.evaluate(value)
            if not isinstance(resolved, NoValue):
                environment[variable] = str(resolved)
        layers = []
        for layer in props.get("Layers", []):
            if not (isinstance(layer, dict) and "Ref" in layer):
                raise SystemExit(f"{name}: layer {layer!r} is not one of this template's")
            layers.append(layer["Ref"])
        found.append(
            Function(
                name=name,
                handler=props["Handler"],
                environment=environment,
                code_uri=ROOT / props["CodeUri"],
                makefile=ROOT / metadata.get("ContextPath", props["CodeUri"]) / "Makefile",
                layers=layers,
                runtime=props["Runtime"],
            )
        )
    return found


# --- the layers -------------------------------------------------------------------------------


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """`name==version` lines of a requirements or constraints file, by normalized name."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*(\S+)", line)
        if match:
            found[_normalized(match.group(1))] = match.group(3)
    return found


def layer_requirements(template: Template, layer: str) -> Path:
    resource = template.resources[layer]
    if resource["Type"] != "AWS::Serverless::LayerVersion":
        raise SystemExit(f"{layer}: not a SAM layer")
    if not str(resource.get("Metadata", {}).get("BuildMethod", "")).startswith("python"):
        raise SystemExit(f"{layer}: only layers built from a requirements file are checked here")
    return ROOT / str(resource["Properties"]["ContentUri"]) / "requirements.txt"


def install_layer(requirements: Path, python: str, cache: Path) -> tuple[Path, bool]:
    """The layer's packages for this platform under `cache` (installed once per requirements
    file content, interpreter and platform), and whether this call installed them."""
    tag = subprocess.run(
        [python, "-c", "import sys; print(f'cp{sys.version_info[0]}{sys.version_info[1]}')"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    home = cache / f"{requirements.parent.name}-{digest}-{tag}-{platform.machine()}"
    target = home / "python"  # where Lambda puts a Python layer's packages: /opt/python
    if (home / ".installed").is_file():
        return target, False
    cache.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=home.name + ".", dir=cache))
    log = scratch / "pip.log"
    with log.open("w") as out:
        status = subprocess.run(
            [
                python,
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--target",
                str(scratch / "python"),
                "--requirement",
                str(requirements),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        ).returncode
    if status != 0:
        print(log.read_text(), file=sys.stderr)
        shutil.rmtree(scratch, ignore_errors=True)
        raise SystemExit(f"pip could not install {requirements.relative_to(ROOT)}")
    (scratch / ".installed").touch()
    shutil.rmtree(home, ignore_errors=True)
    scratch.rename(home)
    return target, True


def distributions(layer: Path) -> dict[str, str]:
    """The distributions installed in a layer directory, by normalized name."""
    return {
        _normalized(d.metadata["Name"]): d.version
        for d in importlib.metadata.distributions(path=[str(layer)])
    }


def built_layer_differences(layer: str, requirements: Path, installed: Path) -> list[str] | None:
    """How the layer `sam build` made for the functions' platform (arm64) differs from the one
    installed here; None when there is no build of the current requirements file to compare."""
    built = ROOT / ".aws-sam" / "build" / layer / "python"
    # SAM copies the requirements file into the layer it built: a stale build says so.
    copied = built / "requirements.txt"
    if not copied.is_file() or copied.read_bytes() != requirements.read_bytes():
        return None
    here, there = distributions(installed), distributions(built)
    return [
        f"{name}: {here.get(name, 'absent')} here, {there.get(name, 'absent')} in the arm64 build"
        for name in sorted(here.keys() | there.keys())
        if here.get(name) != there.get(name)
    ]


def layer_drift(requirements: Path, layer: Path, constraints: Path) -> list[str]:
    """What makes the layer differ from the pinned, tested set (empty: nothing)."""
    pinned = pins(requirements)
    tested = pins(constraints)
    installed = distributions(layer)
    where = requirements.relative_to(ROOT)
    problems = []
    for name, version in sorted(installed.items()):
        if name not in pinned:
            problems.append(
                f"{name}=={version} is in the layer but not pinned in {where} "
                "(an unpinned dependency drifts with every build)"
            )
        elif pinned[name] != version:
            problems.append(f"{name}: {where} pins {pinned[name]}, the layer has {version}")
        if name not in tested:
            problems.append(
                f"{name}=={version} ships in the layer but no test runs with it "
                f"(not in {constraints.name})"
            )
        elif tested[name] != version:
            problems.append(
                f"{name}: the layer ships {version}, the tests run with {tested[name]} "
                f"({constraints.name})"
            )
    problems += [
        f"{name}=={version} is pinned in {where} but pip did not install it"
        for name, version in sorted(pinned.items())
        if name not in installed
    ]
    return problems


# --- the functions ----------------------------------------------------------------------------


def build_artifacts(functions: Iterable[Function], into: Path) -> dict[str, Path]:
    """Each function's artifact, as `sam build` makes it: `make build-<Name>` run in a copy of
    its CodeUri with ARTIFACTS_DIR set."""
    artifacts = {}
    sources: dict[Path, Path] = {}
    for function in functions:
        source = sources.get(function.code_uri)
        if source is None:
            source = into / "source" / str(len(sources)) / function.code_uri.name
            shutil.copytree(function.code_uri, source)
            sources[function.code_uri] = source
        artifact = into / "artifacts" / function.name
        artifact.mkdir(parents=True)
        built = subprocess.run(
            [
                "make",
                "-f",
                str(function.makefile),
                f"build-{function.name}",
                f"ARTIFACTS_DIR={artifact}",
            ],
            cwd=source,
            capture_output=True,
            text=True,
            check=False,
        )
        if built.returncode != 0:
            raise SystemExit(f"{function.name}: make failed\n{built.stdout}{built.stderr}")
        artifacts[function.name] = artifact
    return artifacts


def lambda_environment(function: Function) -> dict[str, str]:
    """What Lambda sets in every python3.x execution environment, then the template's own."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": f"{STACK}-{function.name}",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{STACK}-{function.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef",
        # The execution role's temporary credentials (stand-ins: nothing is called).
        "AWS_ACCESS_KEY_ID": "ASIACHECKARTIFACTS00",
        "AWS_SECRET_ACCESS_KEY": "check-artifacts-secret-access-key-stand-in",
        "AWS_SESSION_TOKEN": "check-artifacts-session-token",
        "_HANDLER": function.handler,
        **function.environment,
    }


@dataclass
class Outcome:
    function: Function
    ok: bool
    error: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    layer_modules: list[str] = field(default_factory=list)


def cold_start(function: Function, python: str, artifact: Path, layers: list[Path]) -> Outcome:
    env = lambda_environment(function) | {"LAMBDA_TASK_ROOT": str(artifact)}
    run = subprocess.run(
        [
            python,
            "-I",
            "-S",
            str(COLD_START),
            function.handler,
            str(artifact),
            *(str(layer) for layer in layers),
        ],
        env=env,
        cwd=artifact,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    if run.returncode != 0 or not lines:
        return Outcome(function, False, f"exit {run.returncode}\n{run.stderr[-3000:]}")
    result = json.loads(lines[-1])
    timings = {k: v for k, v in result.items() if k.endswith("_s")}
    return Outcome(function, result["ok"], result["error"], timings, result["layer_modules"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", required=True, help="the functions' Python interpreter")
    parser.add_argument("--cache", required=True, type=Path, help="where installed layers stay")
    parser.add_argument("--template", default=ROOT / "template.yaml", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    started = time.perf_counter()

    template = Template(yaml_parse(args.template.read_text()))
    functions = functions_of(template)
    failed = False

    layer_dirs: dict[str, Path] = {}
    for layer in sorted({name for f in functions for name in f.layers}):
        requirements = layer_requirements(template, layer)
        layer_started = time.perf_counter()
        layer_dirs[layer], installed = install_layer(requirements, args.python, args.cache)
        how = "installed" if installed else "reused"
        print(
            f"{layer}: {how} {requirements.relative_to(ROOT)} "
            f"in {time.perf_counter() - layer_started:.1f} s ({layer_dirs[layer].parent})"
        )
        problems = layer_drift(requirements, layer_dirs[layer], ROOT / "constraints.txt")
        # What ships is the arm64 build: its packages must be the ones loaded here.
        differences = built_layer_differences(layer, requirements, layer_dirs[layer])
        if differences is None:
            print("  (no `sam build` of this requirements file to compare with the arm64 layer)")
        elif not differences:
            count = len(distributions(layer_dirs[layer]))
            print(f"  the arm64 layer `sam build` made holds the same {count} distributions")
        problems += differences or []
        for problem in problems:
            print(f"  FAIL {problem}")
            failed = True

    with tempfile.TemporaryDirectory(prefix="check-artifacts.") as scratch:
        artifacts = build_artifacts(functions, Path(scratch))
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            outcomes = pool.map(
                lambda f: cold_start(
                    f, args.python, artifacts[f.name], [layer_dirs[n] for n in f.layers]
                ),
                functions,
            )
            for outcome in outcomes:
                name, handler = outcome.function.name, outcome.function.handler
                if outcome.ok:
                    t = outcome.timings
                    print(
                        f"  ok   {name:<30} {handler}  (import {t['import_s']:.2f} s, "
                        f"container {t['container_s']:.2f} s)"
                    )
                else:
                    failed = True
                    first, _, rest = outcome.error.partition("\n")
                    print(f"  FAIL {name:<30} {handler}: {first}")
                    print("       " + rest.strip().replace("\n", "\n       "))

    elapsed = time.perf_counter() - started
    verdict = "FAILED" if failed else "passed"
    print(f"\nartifact check {verdict}: {len(functions)} functions in {elapsed:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
