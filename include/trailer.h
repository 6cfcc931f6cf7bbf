
/* Entry points with variable arguments (src/shim/variadics.c) and
 * function-like macros; appended by build.rs after the generated part. */
#ifdef __cplusplus
extern "C" {
#endif

struct MHD_Daemon *MHD_start_daemon_va(unsigned int flags,
                                       uint16_t port,
                                       MHD_AcceptPolicyCallback apc,
                                       void *apc_cls,
                                       MHD_AccessHandlerCallback dh,
                                       void *dh_cls,
                                       va_list ap);

struct MHD_Daemon *MHD_start_daemon(unsigned int flags,
                                    uint16_t port,
                                    MHD_AcceptPolicyCallback apc,
                                    void *apc_cls,
                                    MHD_AccessHandlerCallback dh,
                                    void *dh_cls,
                                    ...);

const union MHD_ConnectionInfo *MHD_get_connection_info(struct MHD_Connection *connection,
                                                        enum MHD_ConnectionInfoType info_type,
                                                        ...);

enum MHD_Result MHD_set_connection_option(struct MHD_Connection *connection,
                                          enum MHD_CONNECTION_OPTION option,
                                          ...);

const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *daemon,
                                                enum MHD_DaemonInfoType info_type,
                                                ...);

enum MHD_Result MHD_set_response_options(struct MHD_Response *response,
                                         enum MHD_ResponseFlags flags,
                                         ...);

enum MHD_Result MHD_upgrade_action(struct MHD_UpgradeResponseHandle *urh,
                                   enum MHD_UpgradeAction action,
                                   ...);

#ifdef __cplusplus
}
#endif

#define MHD_get_fdset(daemon, read_fd_set, write_fd_set, except_fd_set, max_fd) \
  MHD_get_fdset2((daemon), (read_fd_set), (write_fd_set), (except_fd_set), (max_fd), FD_SETSIZE)

#define MHD_create_response_from_fd_at_offset(size, fd, offset) \
  MHD_create_response_from_fd_at_offset64((size), (fd), (offset))
