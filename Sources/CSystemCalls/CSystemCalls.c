#define _GNU_SOURCE
#include "CSystemCalls.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <spawn.h>
#include <unistd.h>

int faasten_spawn_setsid_flag(void) { return POSIX_SPAWN_SETSID; }

int faasten_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int faasten_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int faasten_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int faasten_pin_process_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    // Every existing thread of this process, then the process itself for new threads.
    DIR *tasks = opendir("/proc/self/task");
    if (tasks != NULL) {
        struct dirent *entry;
        while ((entry = readdir(tasks)) != NULL) {
            int tid = atoi(entry->d_name);
            if (tid > 0) sched_setaffinity(tid, sizeof(set), &set);
        }
        closedir(tasks);
    }
    return sched_setaffinity(0, sizeof(set), &set);
}
