#!/usr/bin/python3
# Test module: returns a warning and a deprecation, or fails with an exception text.
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(crash=dict(type='bool', default=False)))
    if module.params['crash']:
        module.fail_json(msg='kaboom', exception='Traceback (most recent call last):\n  File "warn.py", line 9, in main\nValueError: kaboom\n')
    module.warn('This is a deliberately long warning from the warn test module, long enough that '
                'Ansible wraps it over several lines at seventy-nine columns.')
    module.deprecate('The old_option parameter is deprecated', version='2.99', collection_name='ansible.builtin')
    module.deprecate('Dates work too', date='2030-01-01')
    module.exit_json(changed=False)


if __name__ == '__main__':
    main()
