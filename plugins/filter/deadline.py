# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A task's timeout cut to what is left of a shared deadline (verify.yml's one deadline for every system)."""
import time

from ansible.errors import AnsibleFilterError


def within_deadline(timeout, deadline=None):
    """`timeout` seconds, or fewer when the epoch second `deadline` comes sooner; never less than 1."""
    try:
        timeout = int(timeout)
        if deadline in (None, ""):
            return timeout
        return max(1, min(timeout, int(float(deadline) - time.time())))
    except (TypeError, ValueError) as error:
        raise AnsibleFilterError("within_deadline needs whole seconds and an epoch deadline: {0}".format(error))


class FilterModule(object):
    def filters(self):
        return {"within_deadline": within_deadline}
