# tally's bridge: Ansible's stdout callback under `tally run --engine ansible`.
#
# It draws nothing. It turns each v2 callback call into a record of tally's event schema
# (docs/events.md) and writes it to the pipe tally passed as the file descriptor named by
# $TALLY_BRIDGE_FD: a 4-byte big-endian length, then the record as JSON. tally's collector
# stamps the records (seq, job ID, created) and hands them to tally's plugins.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = '''
    name: tally_bridge
    type: stdout
    short_description: sends every event to tally's collector
    description:
      - Written by tally for one run of ansible-playbook; not meant to be enabled by hand.
'''

import json
import os
import struct
import time
import uuid
from datetime import datetime, timezone

from ansible.module_utils.common.json import AnsibleJSONEncoder
from ansible.playbook.block import Block
from ansible.plugins.callback import CallbackBase


class _Encoder(AnsibleJSONEncoder):
    # A result may hold values JSON has no form for (sets, bytes, objects): their text.
    def default(self, o):
        if isinstance(o, (set, frozenset, tuple)):
            return list(o)
        if isinstance(o, bytes):
            return o.decode('utf-8', 'replace')
        try:
            return super(_Encoder, self).default(o)
        except TypeError:
            return str(o)


def _now():
    return datetime.now(timezone.utc).isoformat()


def _name(task):
    # As tally's engine: an unnamed task has no name (readers fall back on the action, as
    # Task.get_name does), except in a role, where get_name's 'role : action' is the name.
    if task.name or task._role:
        return task.get_name().strip()
    return ''


def _rescued(task):
    # Ansible counts a failure as rescued when the host's block goes on to a rescue section:
    # the task sits, at some depth, in the `block` part of a block that has a rescue. The path
    # up may pass through tasks that are not in any block's list (an import_role, whose role's
    # blocks take its place), so any node seen on the way counts.
    seen, parent = {task._uuid}, getattr(task, '_parent', None)
    while parent is not None:
        if isinstance(parent, Block) and parent.rescue and any(getattr(t, '_uuid', None) in seen for t in parent.block):
            return True
        seen.add(getattr(parent, '_uuid', None))
        parent = getattr(parent, '_parent', None)
    return False


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = 'tally_bridge'

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        fd = os.environ.get('TALLY_BRIDGE_FD')
        self._out = None
        if fd:
            # Programs the modules start must not hold the pipe open after the run.
            os.set_inheritable(int(fd), False)
            self._out = os.fdopen(int(fd), 'wb')
        self._playbook = ''
        self._playbook_uuid = str(uuid.uuid4())
        self._play = None
        self._names = {}   # task uuid -> the name templated at its start
        self._starts = {}  # (host, task uuid) -> when it started on the host

    def _send(self, event, data, uuid_='', parent=''):
        if self._out is None:
            return
        rec = {'event': event, 'event_data': data}
        if uuid_:
            rec['uuid'] = uuid_
        if parent:
            rec['parent_uuid'] = parent
        body = json.dumps(rec, cls=_Encoder, separators=(',', ':')).encode('utf-8')
        try:
            self._out.write(struct.pack('>I', len(body)))
            self._out.write(body)
            self._out.flush()  # tally draws the run as it goes
        except (BrokenPipeError, OSError):
            self._out = None  # tally is gone: the run goes on without a record

    def _task(self, task):
        info = {
            'name': self._names.get(task._uuid, _name(task)),
            'action': task.action,
            'path': task.get_path() or '',
            'uuid': task._uuid,
        }
        tags = task.tags
        if tags:
            info['tags'] = list(tags)
        if not (isinstance(task.no_log, bool) and task.no_log) and task.args:
            info['args'] = task.args
        return info

    def _base(self):
        data = {'playbook': self._playbook}
        if self._play is not None:
            data['play'] = self._play.get_name().strip()
        return data

    def _play_data(self):
        data = self._base()
        hosts = self._play.hosts if self._play is not None else ''
        data['play_pattern'] = ','.join(hosts) if isinstance(hosts, list) else (hosts or '')
        return data

    def _result(self, event, result, **extra):
        task, host = result._task, result._host.get_name()
        data = self._base()
        data['host'] = host
        data['task'] = self._task(task)
        data['res'] = result._result
        if event.startswith('runner_on_'):
            start = self._starts.pop((host, task._uuid), None)
            end = time.time()
            if start is not None:
                data['start'] = datetime.fromtimestamp(start, timezone.utc).isoformat()
                data['duration'] = end - start
            data['end'] = datetime.fromtimestamp(end, timezone.utc).isoformat()
        data.update(extra)
        self._send(event, data, parent=task._uuid)

    def v2_playbook_on_start(self, playbook):
        self._playbook = playbook._file_name
        self._send('playbook_on_start', {'playbook': self._playbook}, uuid_=self._playbook_uuid)

    def v2_playbook_on_play_start(self, play):
        self._play = play
        self._send('playbook_on_play_start', self._play_data(), uuid_=play._uuid, parent=self._playbook_uuid)

    def v2_playbook_on_no_hosts_matched(self):
        self._send('playbook_on_no_hosts_matched', self._play_data(), parent=self._play._uuid if self._play else '')

    def v2_playbook_on_no_hosts_remaining(self):
        self._send('playbook_on_no_hosts_remaining', self._base(), parent=self._play._uuid if self._play else '')

    def _task_start(self, event, task, is_conditional=False):
        # The strategy templates the name for this call only: keep it for the task's results.
        self._names[task._uuid] = _name(task)
        data = self._base()
        data['task'] = self._task(task)
        if is_conditional:
            data['is_conditional'] = True
        self._send(event, data, uuid_=task._uuid, parent=self._play._uuid if self._play else '')

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start('playbook_on_task_start', task, is_conditional)

    def v2_playbook_on_handler_task_start(self, task):
        self._task_start('playbook_on_handler_task_start', task)

    def v2_runner_on_start(self, host, task):
        self._starts[(host.get_name(), task._uuid)] = time.time()
        data = self._base()
        data['host'] = host.get_name()
        data['task'] = self._task(task)
        self._send('runner_on_start', data, parent=task._uuid)

    def v2_runner_on_ok(self, result):
        self._result('runner_on_ok', result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        extra = {}
        if ignore_errors:
            extra['ignore_errors'] = True
        elif _rescued(result._task):
            extra['rescued'] = True
        self._result('runner_on_failed', result, **extra)

    def v2_runner_on_skipped(self, result):
        self._result('runner_on_skipped', result)

    def v2_runner_on_unreachable(self, result):
        extra = {}
        if result._task_fields.get('ignore_unreachable') or getattr(result._task, 'ignore_unreachable', False):
            extra['ignore_unreachable'] = True
        self._result('runner_on_unreachable', result, **extra)

    def v2_runner_item_on_ok(self, result):
        self._result('runner_item_on_ok', result)

    def v2_runner_item_on_failed(self, result):
        self._result('runner_item_on_failed', result)

    def v2_runner_item_on_skipped(self, result):
        self._result('runner_item_on_skipped', result)

    def v2_runner_retry(self, result):
        self._result('runner_retry', result)

    def v2_playbook_on_notify(self, handler, host):
        data = {'host': host.get_name() if hasattr(host, 'get_name') else str(host),
                'handler': _name(handler), 'task': self._task(handler)}
        self._send('playbook_on_notify', data, parent=handler._uuid)

    def v2_playbook_on_include(self, included_file):
        task = included_file._task
        for host in included_file._hosts:
            data = self._base()
            data['host'] = host.get_name()
            data['task'] = self._task(task)
            data['included'] = included_file._filename
            if included_file._vars:
                data['res'] = included_file._vars
            self._send('playbook_on_include', data, parent=task._uuid)

    def v2_playbook_on_stats(self, stats):
        # Ansible's own recap, for tally to check its count of the events against.
        hosts = {}
        for h in stats.processed:
            s = stats.summarize(h)
            s['processed'] = 1
            hosts[h] = s
        custom = dict(stats.custom)
        data = {'stats': {'status': '', 'rc': 0, 'start': _now(), 'end': _now(), 'hosts': hosts,
                          'global_custom_stats': custom.pop('_run', None) or {},
                          'custom_stats': custom}}
        self._send('playbook_on_stats', data)
