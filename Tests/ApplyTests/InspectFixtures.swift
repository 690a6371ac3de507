/// What real engines print, kept verbatim so the parsing is tested against
/// the engine and not against our idea of it.
enum InspectFixtures {
    /// `podman inspect bot1` (podman 4.3.1, rootful, vfs) of a container run as
    /// `podman run -d --name bot1 --network bsnet --network-alias bot1-alias
    /// -v …/ws:/workspace:rw -e FOO=bar -l team=x -u 1000:1000 --restart
    /// unless-stopped --hostname bothost -w /workspace --cap-add NET_ADMIN
    /// localhost/bs-busybox:latest /busybox sleep 1000`.
    static let podmanContainer = #"""
        [
             {
                  "Id": "f4767f0d1d60309f7285b884513fe77e88bc158db00566f63ff8870f7df7958f",
                  "Created": "2026-12-02T12:36:29.966878241Z",
                  "Path": "/busybox",
                  "Args": [
                       "sleep",
                       "1000"
                  ],
                  "State": {
                       "OciVersion": "1.0.2-dev",
                       "Status": "running",
                       "Running": true,
                       "Paused": false,
                       "Restarting": false,
                       "OOMKilled": false,
                       "Dead": false,
                       "Pid": 12766,
                       "ConmonPid": 12748,
                       "ExitCode": 0,
                       "Error": "",
                       "StartedAt": "2026-12-02T12:36:30.270380304Z",
                       "FinishedAt": "0001-01-01T00:00:00Z",
                       "Health": {
                            "Status": "",
                            "FailingStreak": 0,
                            "Log": null
                       },
                       "CgroupPath": "/libpod_parent/libpod-f4767f0d1d60309f7285b884513fe77e88bc158db00566f63ff8870f7df7958f",
                       "CheckpointedAt": "0001-01-01T00:00:00Z",
                       "RestoredAt": "0001-01-01T00:00:00Z"
                  },
                  "Image": "60a9a5ed87b9dcf04b8cae01fcc3214a28250ae0f2c617cd5212fb346c182c91",
                  "ImageDigest": "sha256:c258618147c1e4add3e1d8c11b8efb772cc0653920472a982f48c3ad3aba9a0e",
                  "ImageName": "localhost/bs-busybox:latest",
                  "Rootfs": "",
                  "Pod": "",
                  "ResolvConfPath": "/work/tmp/wt-replace/pexp/run/vfs-containers/f4767f0d1d60309f7285b884513fe77e88bc158db00566f63ff8870f7df7958f/userdata/resolv.conf",
                  "HostnamePath": "/work/tmp/wt-replace/pexp/run/vfs-containers/f4767f0d1d60309f7285b884513fe77e88bc158db00566f63ff8870f7df7958f/userdata/hostname",
                  "HostsPath": "/work/tmp/wt-replace/pexp/run/vfs-containers/f4767f0d1d60309f7285b884513fe77e88bc158db00566f63ff8870f7df7958f/userdata/hosts",
                  "StaticDir": "/work/tmp/wt-replace/pexp/storage/vfs-containers/f4767f0d1d60309f7285b884513fe77e88bc158db00566f63ff8870f7df7958f/userdata",
                  "OCIConfigPath": "/work/tmp/wt-replace/pexp/storage/vfs-containers/f4767f0d1d60309f7285b884513fe77e88bc158db00566f63ff8870f7df7958f/userdata/config.json",
                  "OCIRuntime": "runc",
                  "ConmonPidFile": "/work/tmp/wt-replace/pexp/run/vfs-containers/f4767f0d1d60309f7285b884513fe77e88bc158db00566f63ff8870f7df7958f/userdata/conmon.pid",
                  "PidFile": "/work/tmp/wt-replace/pexp/run/vfs-containers/f4767f0d1d60309f7285b884513fe77e88bc158db00566f63ff8870f7df7958f/userdata/pidfile",
                  "Name": "bot1",
                  "RestartCount": 0,
                  "Driver": "vfs",
                  "MountLabel": "",
                  "ProcessLabel": "",
                  "AppArmorProfile": "",
                  "EffectiveCaps": [
                       "CAP_NET_ADMIN"
                  ],
                  "BoundingCaps": [
                       "CAP_AUDIT_WRITE",
                       "CAP_CHOWN",
                       "CAP_DAC_OVERRIDE",
                       "CAP_FOWNER",
                       "CAP_FSETID",
                       "CAP_KILL",
                       "CAP_MKNOD",
                       "CAP_NET_ADMIN",
                       "CAP_NET_BIND_SERVICE",
                       "CAP_NET_RAW",
                       "CAP_SETFCAP",
                       "CAP_SETGID",
                       "CAP_SETPCAP",
                       "CAP_SETUID",
                       "CAP_SYS_CHROOT"
                  ],
                  "ExecIDs": [],
                  "GraphDriver": {
                       "Name": "vfs",
                       "Data": null
                  },
                  "Mounts": [
                       {
                            "Type": "bind",
                            "Source": "/work/tmp/wt-replace/pexp/ws",
                            "Destination": "/workspace",
                            "Driver": "",
                            "Mode": "",
                            "Options": [
                                 "rbind"
                            ],
                            "RW": true,
                            "Propagation": "rprivate"
                       }
                  ],
                  "Dependencies": [],
                  "NetworkSettings": {
                       "EndpointID": "",
                       "Gateway": "",
                       "IPAddress": "",
                       "IPPrefixLen": 0,
                       "IPv6Gateway": "",
                       "GlobalIPv6Address": "",
                       "GlobalIPv6PrefixLen": 0,
                       "MacAddress": "",
                       "Bridge": "",
                       "SandboxID": "",
                       "HairpinMode": false,
                       "LinkLocalIPv6Address": "",
                       "LinkLocalIPv6PrefixLen": 0,
                       "Ports": {},
                       "SandboxKey": "/run/netns/netns-56e93571-9da2-26b7-18cf-023f5daea1d0",
                       "Networks": {
                            "bsnet": {
                                 "EndpointID": "",
                                 "Gateway": "10.89.0.1",
                                 "IPAddress": "10.89.0.2",
                                 "IPPrefixLen": 24,
                                 "IPv6Gateway": "",
                                 "GlobalIPv6Address": "",
                                 "GlobalIPv6PrefixLen": 0,
                                 "MacAddress": "8e:42:45:98:80:5a",
                                 "NetworkID": "bsnet",
                                 "DriverOpts": null,
                                 "IPAMConfig": null,
                                 "Links": null,
                                 "Aliases": [
                                      "bot1-alias",
                                      "f4767f0d1d60"
                                 ]
                            }
                       }
                  },
                  "Namespace": "",
                  "IsInfra": false,
                  "IsService": false,
                  "Config": {
                       "Hostname": "bothost",
                       "Domainname": "",
                       "User": "1000:1000",
                       "AttachStdin": false,
                       "AttachStdout": false,
                       "AttachStderr": false,
                       "Tty": false,
                       "OpenStdin": false,
                       "StdinOnce": false,
                       "Env": [
                            "TERM=xterm",
                            "container=podman",
                            "FOO=bar",
                            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                            "HOSTNAME=bothost"
                       ],
                       "Cmd": [
                            "/busybox",
                            "sleep",
                            "1000"
                       ],
                       "Image": "localhost/bs-busybox:latest",
                       "Volumes": null,
                       "WorkingDir": "/workspace",
                       "Entrypoint": "",
                       "OnBuild": null,
                       "Labels": {
                            "io.buildah.version": "1.28.2",
                            "team": "x"
                       },
                       "Annotations": {
                            "io.container.manager": "libpod",
                            "io.kubernetes.cri-o.Created": "2026-12-02T12:36:29.966878241Z",
                            "io.kubernetes.cri-o.TTY": "false",
                            "io.podman.annotations.autoremove": "FALSE",
                            "io.podman.annotations.init": "FALSE",
                            "io.podman.annotations.privileged": "FALSE",
                            "io.podman.annotations.publish-all": "FALSE",
                            "org.opencontainers.image.base.digest": "sha256:f9344768df4c83a1dd2721d75f3a8e3fe4d4e2ce1348fa106f466d861735783e",
                            "org.opencontainers.image.base.name": "",
                            "org.opencontainers.image.stopSignal": "15"
                       },
                       "StopSignal": 15,
                       "HealthcheckOnFailureAction": "none",
                       "CreateCommand": [
                            "podman",
                            "--root",
                            "/work/tmp/wt-replace/pexp/storage",
                            "--runroot",
                            "/work/tmp/wt-replace/pexp/run",
                            "--storage-driver",
                            "vfs",
                            "--runtime",
                            "runc",
                            "--cgroup-manager",
                            "cgroupfs",
                            "run",
                            "-d",
                            "--name",
                            "bot1",
                            "--network",
                            "bsnet",
                            "--network-alias",
                            "bot1-alias",
                            "-v",
                            "/work/tmp/wt-replace/pexp/ws:/workspace:rw",
                            "-e",
                            "FOO=bar",
                            "-l",
                            "team=x",
                            "-u",
                            "1000:1000",
                            "--restart",
                            "unless-stopped",
                            "--hostname",
                            "bothost",
                            "-w",
                            "/workspace",
                            "--cap-add",
                            "NET_ADMIN",
                            "localhost/bs-busybox:latest",
                            "/busybox",
                            "sleep",
                            "1000"
                       ],
                       "Umask": "0022",
                       "Timeout": 0,
                       "StopTimeout": 10,
                       "Passwd": true,
                       "sdNotifyMode": "container"
                  },
                  "HostConfig": {
                       "Binds": [
                            "/work/tmp/wt-replace/pexp/ws:/workspace:rw,rprivate,rbind"
                       ],
                       "CgroupManager": "cgroupfs",
                       "CgroupMode": "host",
                       "ContainerIDFile": "",
                       "LogConfig": {
                            "Type": "k8s-file",
                            "Config": null,
                            "Path": "/work/tmp/wt-replace/pexp/storage/vfs-containers/f4767f0d1d60309f7285b884513fe77e88bc158db00566f63ff8870f7df7958f/userdata/ctr.log",
                            "Tag": "",
                            "Size": "0B"
                       },
                       "NetworkMode": "bridge",
                       "PortBindings": {},
                       "RestartPolicy": {
                            "Name": "unless-stopped",
                            "MaximumRetryCount": 0
                       },
                       "AutoRemove": false,
                       "VolumeDriver": "",
                       "VolumesFrom": null,
                       "CapAdd": [
                            "CAP_NET_ADMIN"
                       ],
                       "CapDrop": [],
                       "Dns": [],
                       "DnsOptions": [],
                       "DnsSearch": [],
                       "ExtraHosts": [],
                       "GroupAdd": [],
                       "IpcMode": "shareable",
                       "Cgroup": "",
                       "Cgroups": "default",
                       "Links": null,
                       "OomScoreAdj": 0,
                       "PidMode": "private",
                       "Privileged": false,
                       "PublishAllPorts": false,
                       "ReadonlyRootfs": false,
                       "SecurityOpt": [],
                       "Tmpfs": {},
                       "UTSMode": "private",
                       "UsernsMode": "",
                       "ShmSize": 65536000,
                       "Runtime": "oci",
                       "ConsoleSize": [
                            0,
                            0
                       ],
                       "Isolation": "",
                       "CpuShares": 0,
                       "Memory": 0,
                       "NanoCpus": 0,
                       "CgroupParent": "",
                       "BlkioWeight": 0,
                       "BlkioWeightDevice": null,
                       "BlkioDeviceReadBps": null,
                       "BlkioDeviceWriteBps": null,
                       "BlkioDeviceReadIOps": null,
                       "BlkioDeviceWriteIOps": null,
                       "CpuPeriod": 0,
                       "CpuQuota": 0,
                       "CpuRealtimePeriod": 0,
                       "CpuRealtimeRuntime": 0,
                       "CpusetCpus": "",
                       "CpusetMems": "",
                       "Devices": [],
                       "DiskQuota": 0,
                       "KernelMemory": 0,
                       "MemoryReservation": 0,
                       "MemorySwap": 0,
                       "MemorySwappiness": 0,
                       "OomKillDisable": false,
                       "PidsLimit": 2048,
                       "Ulimits": [],
                       "CpuCount": 0,
                       "CpuPercent": 0,
                       "IOMaximumIOps": 0,
                       "IOMaximumBandwidth": 0,
                       "CgroupConf": null
                  }
             }
        ]
        """#

    /// `podman image inspect` of that container's image (`FROM scratch`, `COPY busybox`, `CMD`), trimmed to `Config`.
    static let podmanImage = #"""
        [{"Id": "60a9a5ed87b9dcf04b8cae01fcc3214a28250ae0f2c617cd5212fb346c182c91",
          "Config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                     "Cmd": ["/busybox", "sleep", "3600"], "Labels": {"io.buildah.version": "1.28.2"}}}]
        """#
}
