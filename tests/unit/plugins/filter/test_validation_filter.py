# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared input checks: quantities, images, DNS names, paths, resources, heap against the memory limit."""
from decimal import Decimal

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.stateful.datastores.plugins.filter.validation import FilterModule
from ansible_collections.stateful.datastores.plugins.module_utils.validation import java_heap, parse_quantity

FILTERS = FilterModule().filters()


def problems(check_type, value, **options):
    check = {"variable": "my_var", "value": value, "type": check_type}
    check.update(options)
    return FILTERS["input_problems"]([check])


@pytest.mark.parametrize("text,expected", [
    ("512Mi", 512 * 2 ** 20), ("1Gi", 2 ** 30), ("250m", Decimal("0.25")), ("1", 1), (2, 2), ("1.5G", 1500000000),
    ("1e3", 1000), (".5", Decimal("0.5")), ("10Ki", 10240)])
def test_quantities_parse_as_kubernetes_parses_them(text, expected):
    assert parse_quantity(text) == expected


@pytest.mark.parametrize("text", ["2 GB", "512MB", "1gi", "-1", "", "Mi", "1.2.3", "ten", None, True, "1 ", "0x10"])
def test_not_quantities(text):
    assert parse_quantity(text) is None


@pytest.mark.parametrize("check_type,value,options", [
    ("dns_label", "hazelcast", {}), ("dns_label", "a" * 52, {"max_length": 52}),
    ("dns_subdomain", "cluster.local", {}),
    ("image", "docker.io/hazelcast/hazelcast:5.7.0", {}), ("image", "hazelcast/hazelcast", {}),
    ("image", "localhost:5000/a/b@sha256:" + "0" * 64, {}), ("image", "registry.k8s.io/pause:3.10", {}),
    ("quantity", "10Gi", {}), ("absolute_path", "/mnt/disks/a", {}), ("positive_int", 3, {}),
    ("resources", {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}, {}),
    ("heap", "-Xmx256m", {"memory_limit": "512Mi"}), ("heap", "", {"memory_limit": "512Mi"}),
])
def test_good_values_pass(check_type, value, options):
    assert problems(check_type, value, **options) == []


@pytest.mark.parametrize("check_type,value,options,words", [
    ("dns_label", "Hazelcast", {}, "DNS label"), ("dns_label", "a" * 53, {"max_length": 52}, "at most 52"),
    ("dns_label", "-x", {}, "DNS label"), ("dns_label", 5, {}, "DNS label"),
    ("dns_subdomain", "cluster..local", {}, "DNS name"),
    ("image", "hazelcast/hazelcast :5.7.0", {}, "image reference"), ("image", "Hazelcast/Hazelcast", {}, "image"),
    ("image", "", {}, "image reference"),
    ("quantity", "2 GB", {}, "positive Kubernetes quantity"), ("quantity", "0", {}, "positive"),
    ("absolute_path", "mnt/a", {}, "absolute path"), ("positive_int", 0, {}, "at least 1"),
    ("positive_int", True, {}, "whole number"),
    ("resources", {"limits": {"memory": "2 GB"}}, {}, "limits.memory '2 GB'"),
    ("resources", {"limit": {"memory": "1Gi"}}, {}, "requests and limits"),
    ("resources", {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}, {}, "requests must not exceed"),
    ("resources", {"requests": {"gpu": "1"}}, {}, "cpu, memory or ephemeral-storage"),
    ("heap", "-Xmx99g", {"memory_limit": "512Mi", "limit_variable": "x_resources.limits.memory"},
     "heap of 101376 MiB"),
    ("heap", "-Xms1g -Xmx512m", {"memory_limit": "512Mi"}, "not below the container memory limit"),
])
def test_bad_values_are_named_with_the_variable_and_the_value(check_type, value, options, words):
    (message,) = problems(check_type, value, **options)
    assert message.startswith("my_var ") and words in message, message


def test_heap_reads_the_last_option_in_any_unit():
    assert java_heap("-Xmx1g -Xmx2G") == 2 * 2 ** 30
    assert java_heap("-XX:MaxHeapSize=1024m") == 2 ** 30
    assert java_heap("-Xms4g -XX:MaxRAMPercentage=70") is None


def test_unknown_check_type_is_a_filter_error():
    with pytest.raises(AnsibleFilterError):
        problems("colour", "red")


def test_quantity_filter():
    assert FILTERS["k8s_quantity"]("512Mi") == 512 * 2 ** 20
    with pytest.raises(AnsibleFilterError):
        FILTERS["k8s_quantity"]("2 GB")
    assert FILTERS["java_heap_bytes"]("-Xmx1k") == 1024


@pytest.mark.parametrize("value", ["", None])
def test_optional_checks_pass_when_empty(value):
    assert problems("image", value, optional=True) == []
    assert problems("image", "Bad Image", optional=True)[0].startswith("my_var must be an image reference")


@pytest.mark.parametrize("resources", [{"limits": {"memory": "256Mi"}}, {"limits": {"memory": "1Gi", "cpu": "1"}}])
def test_heap_against_the_memory_limit_of_resources(resources):
    found = problems("heap", "-Xmx1g", resources=resources, limit_variable="my_resources.limits.memory")
    assert found == ["my_var sets a heap of 1024 MiB (-Xmx), not below the container memory limit {} "
                     "(my_resources.limits.memory): the kernel would kill the JVM. Lower -Xmx (at most about 80% of "
                     "the limit) or raise my_resources.limits.memory, got '-Xmx1g'".format(resources["limits"]["memory"])]


@pytest.mark.parametrize("resources", [None, "x", {"limits": None}, {"limits": "x"}, {"requests": {"memory": "1"}}])
def test_heap_passes_without_a_memory_limit(resources):
    assert problems("heap", "-Xmx1g", resources=resources) == []
