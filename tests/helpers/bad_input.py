# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A playbook that runs a role once per bad-input case and records how each case ended."""
from tests.helpers.cluster import kubeconfig_path


def every_case_playbook(role, base, cases):
    """One play per (variable, variables) case over `base`; each failure is rescued and recorded, so that one
    run tries every case. The last play's task "Report every case" shows bad_input_results: case index ->
    'PASSED' or {task, msg} of the task that failed."""
    plays = []
    for index, (_variable, variables) in enumerate(cases):
        values = dict(base, **{role + "_kubeconfig": kubeconfig_path()})
        values.update(variables)
        plays.append({
            "name": "Bad input case {}".format(index), "hosts": "localhost", "gather_facts": False, "vars": values,
            "tasks": [{"name": "Try the role", "block": [
                {"name": "Run the role", "ansible.builtin.include_role": {"name": "stateful.datastores." + role}},
                {"name": "Record a run that did not fail", "ansible.builtin.set_fact": {
                    "bad_input_results": "{{ bad_input_results | default({}) | combine({'%d': 'PASSED'}) }}" % index}},
            ], "rescue": [
                {"name": "Record the failure", "ansible.builtin.set_fact": {
                    "bad_input_results": "{{ bad_input_results | default({}) | combine({'%d': "
                                         "{'task': ansible_failed_task.name, "
                                         "'msg': ansible_failed_result.msg | default('') | string}}) }}" % index}},
            ]}],
        })
    plays.append({"name": "Report", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "Report every case", "ansible.builtin.debug": {"var": "bad_input_results"}}]})
    return plays
