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

int faasten_pin_process_to_cpus(const int *cpus, int count) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < count; i++) {
        if (cpus[i] >= 0 && cpus[i] < CPU_SETSIZE) CPU_SET(cpus[i], &set);
    }
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

int faasten_thread_cpus(int *cpus, int max) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
    int count = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && count < max; cpu++) {
        if (CPU_ISSET(cpu, &set)) cpus[count++] = cpu;
    }
    return count;
}

int faasten_set_thread_cpus(const int *cpus, int count) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < count; i++) {
        if (cpus[i] >= 0 && cpus[i] < CPU_SETSIZE) CPU_SET(cpus[i], &set);
    }
    return sched_setaffinity(0, sizeof(set), &set);
}
