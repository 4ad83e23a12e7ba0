#!/bin/sh
# Regenerates the encrypted fixtures with ansible-vault itself (ansible-core 2.14).
# The passwords are in the *.pass files; the plaintexts are in vault_test.go.
set -eu
cd "$(dirname "$0")"
printf 'alpha\n' > alpha.pass
printf 'beta\n' > beta.pass
enc() { # enc OUT ARGS...: encrypts stdin to OUT
	out=$1; shift
	ansible-vault encrypt --output "$out" "$@" -
}
printf 'secret: hunter2\n' | enc v11.yml --vault-password-file alpha.pass
printf 'db_password: s3cr3t\n' | enc v12-dev.yml --vault-id dev@beta.pass
# 15 bytes and 16 bytes: one block of padding, and a whole extra block.
printf '123456789012345' | enc pad15.txt --vault-password-file alpha.pass
printf '1234567890123456' | enc pad16.txt --vault-password-file alpha.pass
printf 'línea 1\nline 2\n' | enc utf8.txt --vault-password-file alpha.pass
