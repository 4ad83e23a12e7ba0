#!/bin/sh
# Regenerates the vault-encrypted playbook and vars file with ansible-vault (password "alpha").
set -eu
cd "$(dirname "$0")"
printf 'alpha\n' > alpha.pass
printf -- '- hosts: all\n  vars:\n    greeting: hello\n  tasks:\n    - debug: msg={{ greeting }}\n' |
	ansible-vault encrypt --vault-password-file alpha.pass --output playbook.yml -
printf 'db_password: s3cr3t\nport: 5432\n' | ansible-vault encrypt --vault-password-file alpha.pass --output vars.yml -
