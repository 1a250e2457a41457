/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Runs one container from the CTL_START message read on CTL_FD (a socket to the
 * daemon): builds the sandbox, clones its init, relays its state to the client
 * and the daemon, and removes everything when the init exits. While it runs it
 * listens on RUN_DIR/containers/NAME.sock, so a restarted daemon finds it again.
 * NETWORK_DIR holds the virtual networks' files (Mode=network).
 * Returns the controller's exit status. */
int sbx_controller_run(int ctl_fd, const char *run_dir, const char *network_dir);
