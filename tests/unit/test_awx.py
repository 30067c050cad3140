# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX material stays true to the roles: docs/awx/survey-site.json asks only for variables the roles
declare (or site.yml reads), with their types, choices and the defaults of inventories/gke, in the survey
format AWX accepts; the playbooks never prompt; the wrapper project imports playbooks that exist."""
import json
import pathlib
import re

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
SURVEY = json.loads((REPO / "docs" / "awx" / "survey-site.json").read_text())
QUESTIONS = SURVEY["spec"]
ROLES = sorted(p.name for p in (REPO / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())
SYSTEMS = ["antidote", "elasticsearch", "hazelcast", "atomix"]
# Variables that playbooks/site.yml reads itself (no role declares them), with its default.
PLAYBOOK_VARIABLES = {"datastores_systems": SYSTEMS}
# What AWX's survey API accepts (awx/api/views: JobTemplateSurveySpec.ALLOWED_TYPES): the type of a default.
AWX_TYPES = {"text": str, "textarea": str, "password": str, "multiplechoice": str, "multiselect": str,
             "integer": int, "float": float}
# Survey question types that can carry a value of each argument spec type.
COMPATIBLE = {"int": {"integer"}, "str": {"text", "textarea", "multiplechoice", "password"}, "list": {"multiselect"},
              "float": {"float"}}


def option(variable):
    """(role, its argument spec entry) for a role variable."""
    owners = [role for role in ROLES if variable.startswith(role + "_")]
    for role in owners:
        options = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())[
            "argument_specs"]["main"].get("options") or {}
        if variable in options:
            return role, options[variable]
    raise AssertionError("{} is declared by no role's meta/argument_specs.yml (roles {})".format(variable, owners))


def expected_default(variable):
    """What a run gets without the survey: inventories/gke, else the role's default (or site.yml's)."""
    inventory = yaml.safe_load((REPO / "inventories" / "gke" / "group_vars" / "all" / "datastores.yml").read_text())
    if variable in inventory:
        return inventory[variable]
    if variable in PLAYBOOK_VARIABLES:
        return PLAYBOOK_VARIABLES[variable]
    role, _spec = option(variable)
    return yaml.safe_load((REPO / "roles" / role / "defaults" / "main.yml").read_text())[variable]


def answer(question):
    """The survey default as the playbook receives it."""
    if question["type"] == "multiselect":
        return [line for line in question["default"].splitlines() if line.strip()]
    return question["default"]


def choices(question):
    value = question["choices"]
    return value if isinstance(value, list) else [c for c in value.splitlines() if c.strip()]


def test_the_survey_has_what_awx_requires():
    assert isinstance(SURVEY["name"], str) and SURVEY["name"]
    assert isinstance(SURVEY["description"], str)
    assert isinstance(QUESTIONS, list) and QUESTIONS
    variables = [q["variable"] for q in QUESTIONS]
    assert len(variables) == len(set(variables)), "a variable asked twice"


@pytest.mark.parametrize("question", QUESTIONS, ids=[q["variable"] for q in QUESTIONS])
def test_question_is_in_awx_format(question):
    for key in ("question_name", "question_description", "required", "type", "variable", "default"):
        assert key in question, key
    assert question["type"] in AWX_TYPES
    assert isinstance(question["default"], AWX_TYPES[question["type"]])
    assert question["required"] is False, "launches through the API or a schedule give no answers"
    for key in ("min", "max"):
        assert key not in question or isinstance(question[key], int), key
    if question["type"] in ("multiplechoice", "multiselect"):
        assert choices(question), "choice questions list their choices"
        assert set(answer(question) if question["type"] == "multiselect" else [question["default"]]) <= set(
            choices(question))
    if question["type"] == "integer":
        assert question.get("min", question["default"]) <= question["default"] <= question.get("max", question["default"])
    if question["type"] == "text":
        assert question.get("min", 0) <= len(question["default"]) <= question.get("max", len(question["default"]))


@pytest.mark.parametrize("question", QUESTIONS, ids=[q["variable"] for q in QUESTIONS])
def test_question_asks_for_a_declared_variable_of_its_type(question):
    variable = question["variable"]
    if variable in PLAYBOOK_VARIABLES:
        assert variable in (REPO / "playbooks" / "site.yml").read_text()
        assert question["type"] == "multiselect" and choices(question) == PLAYBOOK_VARIABLES[variable]
        return
    _role, spec = option(variable)
    assert question["type"] in COMPATIBLE[spec.get("type", "str")], (variable, spec.get("type"))
    if spec.get("choices"):
        assert set(choices(question)) <= set(spec["choices"]), (variable, spec["choices"])


@pytest.mark.parametrize("question", QUESTIONS, ids=[q["variable"] for q in QUESTIONS])
def test_question_default_is_what_the_run_gets_without_the_survey(question):
    assert answer(question) == expected_default(question["variable"])


def test_survey_asks_how_many_of_each_system():
    asked = {q["variable"] for q in QUESTIONS}
    assert {"datastores_systems", "antidote_replicas", "elasticsearch_replicas", "hazelcast_replicas",
            "atomix_replicas"} <= asked


def test_no_playbook_or_role_prompts():
    """Job templates run without prompts: every input is an extra variable."""
    prompting = []
    for path in sorted((REPO / "playbooks").glob("*.yml")) + sorted((REPO / "roles").glob("*/tasks/*.yml")):
        text = path.read_text()
        if re.search(r"^\s*vars_prompt:", text, re.M) or re.search(r"pause:\s*\n(\s+\w+:.*\n)*?\s+prompt:", text):
            prompting.append(str(path.relative_to(REPO)))
    assert not prompting


@pytest.mark.parametrize("name", ["site", "verify", "teardown"])
def test_wrapper_project_imports_the_collections_playbook(name):
    plays = yaml.safe_load((REPO / "docs" / "awx" / "project" / (name + ".yml")).read_text())
    assert [play["ansible.builtin.import_playbook"] for play in plays] == ["stateful.datastores." + name]
    assert (REPO / "playbooks" / (name + ".yml")).is_file()


def test_wrapper_project_requires_this_collections_version():
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    wanted = yaml.safe_load((REPO / "docs" / "awx" / "project" / "collections" / "requirements.yml").read_text())
    versions = {c["name"]: c.get("version") for c in wanted["collections"]}
    assert versions["stateful.datastores"] == galaxy["version"]
    assert "kubernetes.core" in versions


def test_awx_page_names_every_template_variable_and_file():
    page = (REPO / "docs" / "awx.md").read_text()
    for text in ("survey-site.json", "playbooks/site.yml", "playbooks/verify.yml", "playbooks/teardown.yml",
                 "execution-environment.yml", "docs/rbac/deployer.yaml", "K8S_AUTH_HOST", "K8S_AUTH_API_KEY",
                 "K8S_AUTH_VERIFY_SSL", "K8S_AUTH_SSL_CA_CERT", "datastores_purge"):
        assert text in page, text
