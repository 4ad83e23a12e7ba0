# Test-data generator for tally's host/display package (not part of tally). See ../../gen.sh.
#
# A stdout callback that records one ansible-playbook run twice:
# - every callback call as a tally event (pluginsdk/event schema, one JSON document per line) in
#   $TALLY_GOLDEN_DIR/events.jsonl, with results as Ansible had them before
#   TaskResult.clean_copy, which is what tally's executor hands the collector;
# - the screen output (stdout and stderr, in order) of Ansible's own `default` callback, run
#   unchanged once per case below with that case's verbosity, options and colour, in
#   $TALLY_GOLDEN_DIR/NAME.golden.

DOCUMENTATION = '''
    name: tally_golden
    type: stdout
    short_description: tally events and default callback output for several settings, to files
    description:
        - Records tally events and runs the default callback once per test case, output to files.
'''

import json
import os

import ansible.utils.color
from ansible.executor.task_result import TaskResult
from ansible.parsing.ajson import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase
from ansible.plugins.loader import callback_loader
from ansible.utils.display import Display
from ansible.vars.clean import module_response_deepcopy

# name: (verbosity, default callback options, colour)
CASES = {
    'v0': (0, {}, False),
    'v1': (1, {}, False),
    'v2': (2, {}, False),
    'v3': (3, {}, False),
    'hidden': (0, {'display_skipped_hosts': False, 'display_ok_hosts': False}, False),
    'custom_stats': (0, {'show_custom_stats': True}, False),
    'color': (0, {}, True),
}

_clean_copy = TaskResult.clean_copy


def _clean_copy_keeping_raw(self):
    clean = _clean_copy(self)
    clean._tally_raw = module_response_deepcopy(self._result)
    return clean


TaskResult.clean_copy = _clean_copy_keeping_raw


class _FileDisplay:
    """The parts of Display the default callback uses, writing the screen output to a file."""

    banner = Display.banner
    warning = Display.warning
    deprecated = Display.deprecated
    get_deprecation_message = Display.get_deprecation_message

    def __init__(self, path, verbosity):
        self._out = open(path, 'w', encoding='utf-8')
        self.verbosity = verbosity
        self.columns = 79  # what Display uses when stdout is not a terminal
        self.b_cowsay = None
        self._warns = {}
        self._deprecations = {}

    def display(self, msg, color=None, stderr=False, screen_only=False, log_only=False, newline=True):
        if log_only:
            return
        has_newline = msg.endswith('\n')
        if has_newline:
            msg = msg[:-1]
        if color:
            msg = ansible.utils.color.stringc(msg, color)
        if has_newline or newline:
            msg += '\n'
        self._out.write(msg)
        self._out.flush()


def _task(task):
    # tally leaves the name empty for unnamed tasks; get_name() would give the action.
    return {'name': task.get_name() if task.name else '', 'action': task.action, 'path': task.get_path() or '', 'uuid': task._uuid}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = 'tally_golden'

    def __init__(self):
        super().__init__()
        out = os.environ['TALLY_GOLDEN_DIR']
        self._events = open(os.path.join(out, 'events.jsonl'), 'w', encoding='utf-8')
        self._seq = 0
        self._cases = []
        for name, (verbosity, options, color) in CASES.items():
            cb = callback_loader.get('default')
            cb.set_options()
            for k, v in options.items():
                cb.set_option(k, v)
            cb._display = _FileDisplay(os.path.join(out, name + '.golden'), verbosity)
            self._cases.append((cb, color))

    def _emit(self, event, **data):
        self._seq += 1
        doc = {'job_id': 'test-job', 'seq': self._seq, 'event': event, 'event_data': data}
        self._events.write(json.dumps(doc, cls=AnsibleJSONEncoder, ensure_ascii=False, sort_keys=True) + '\n')
        self._events.flush()

    def _emit_result(self, event, result, **data):
        res = result._tally_raw
        if result._task.no_log is True:
            # tally's executor marks every result of a no_log task; Ansible asks the task.
            res['_ansible_no_log'] = True
        self._emit(event, host=result._host.get_name(), task=_task(result._task), res=res, **data)

    def _run_default(self, method, *args, **kwargs):
        """Calls the default callback of every case, each on its own copy of a result."""
        saved = ansible.utils.color.ANSIBLE_COLOR
        for cb, color in self._cases:
            copies = [TaskResult(a._host, a._task, module_response_deepcopy(a._result), a._task_fields)
                      if isinstance(a, TaskResult) else a for a in args]
            ansible.utils.color.ANSIBLE_COLOR = color
            try:
                getattr(cb, method)(*copies, **kwargs)
            finally:
                ansible.utils.color.ANSIBLE_COLOR = saved

    def v2_playbook_on_start(self, playbook):
        self._emit('playbook_on_start', playbook=playbook._file_name)
        self._run_default('v2_playbook_on_start', playbook)

    def v2_playbook_on_play_start(self, play):
        name = play._ds.get('name', '') if isinstance(play._ds, dict) else ''
        hosts = play.hosts if isinstance(play.hosts, str) else ','.join(play.hosts)
        self._emit('playbook_on_play_start', play=name, play_pattern=hosts)
        self._run_default('v2_playbook_on_play_start', play)

    def v2_playbook_on_no_hosts_matched(self):
        self._emit('playbook_on_no_hosts_matched')
        self._run_default('v2_playbook_on_no_hosts_matched')

    def v2_playbook_on_no_hosts_remaining(self):
        self._emit('playbook_on_no_hosts_remaining')
        self._run_default('v2_playbook_on_no_hosts_remaining')

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._emit('playbook_on_task_start', task=_task(task), is_conditional=bool(is_conditional))
        self._run_default('v2_playbook_on_task_start', task, is_conditional)

    def v2_playbook_on_handler_task_start(self, task):
        self._emit('playbook_on_handler_task_start', task=_task(task))
        self._run_default('v2_playbook_on_handler_task_start', task)

    def v2_playbook_on_notify(self, handler, host):
        self._emit('playbook_on_notify', handler=handler.get_name(), host=host.get_name())
        self._run_default('v2_playbook_on_notify', handler, host)

    def v2_playbook_on_include(self, included_file):
        for host in included_file._hosts:
            self._emit('playbook_on_include', included=included_file._filename, host=host.name,
                       res=module_response_deepcopy(included_file._vars))
        self._run_default('v2_playbook_on_include', included_file)

    def v2_runner_on_start(self, host, task):
        self._emit('runner_on_start', host=host.get_name(), task=_task(task))
        self._run_default('v2_runner_on_start', host, task)

    def v2_runner_on_ok(self, result):
        self._emit_result('runner_on_ok', result)
        self._run_default('v2_runner_on_ok', result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._emit_result('runner_on_failed', result, ignore_errors=bool(ignore_errors))
        self._run_default('v2_runner_on_failed', result, ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._emit_result('runner_on_skipped', result)
        self._run_default('v2_runner_on_skipped', result)

    def v2_runner_on_unreachable(self, result):
        self._emit_result('runner_on_unreachable', result, ignore_unreachable=bool(result._task.ignore_unreachable))
        self._run_default('v2_runner_on_unreachable', result)

    def v2_runner_item_on_ok(self, result):
        self._emit_result('runner_item_on_ok', result)
        self._run_default('v2_runner_item_on_ok', result)

    def v2_runner_item_on_failed(self, result):
        self._emit_result('runner_item_on_failed', result)
        self._run_default('v2_runner_item_on_failed', result)

    def v2_runner_item_on_skipped(self, result):
        self._emit_result('runner_item_on_skipped', result)
        self._run_default('v2_runner_item_on_skipped', result)

    def v2_runner_retry(self, result):
        self._emit_result('runner_retry', result)
        self._run_default('v2_runner_retry', result)

    def v2_playbook_on_stats(self, stats):
        hosts = {}
        for h in stats.processed:
            s = stats.summarize(h)
            s['processed'] = stats.processed[h]
            hosts[h] = s
        custom = {h: v for h, v in stats.custom.items() if h != '_run'}
        data = {'hosts': hosts}
        if custom:
            data['custom_stats'] = custom
        if '_run' in stats.custom:
            data['global_custom_stats'] = stats.custom['_run']
        self._emit('playbook_on_stats', stats=data)
        self._run_default('v2_playbook_on_stats', stats)
