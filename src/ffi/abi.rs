//! The C-visible types and constants of libmicrohttpd 0.9.75, with the C names.
//!
//! cbindgen turns this file into `include/microhttpd.h`. Layouts and values
//! are facts of the 0.9.75 ABI (checked by `make abi-check` against Debian's
//! header); the HTTP UPGRADE declarations follow `design/UPGRADE.md` instead.
//!
//! Safety rule: a Rust `enum` is never built from an integer that C hands us.
//! Every place where C gives Rust a value of an enum type (parameters of
//! exported functions, results of callbacks, `MHD_OptionItem::option`) uses
//! one of the `*Int` integer aliases below. cbindgen.toml renames each alias
//! to `enum X`, so the header still shows the enum type. The Rust enums are
//! for values Rust produces, and as the source of the member constants
//! (`MHD_Result::MHD_YES as c_int`).
#![allow(non_camel_case_types, non_upper_case_globals, non_snake_case)]
#![allow(clippy::upper_case_acronyms)]

use core::ffi::{c_char, c_int, c_uint, c_void};
pub use libc::{fd_set, intptr_t, off_t, size_t, sockaddr, socklen_t, ssize_t};

// ---------------------------------------------------------------------------
// Version and plain numeric macros.

/// Version of the API this library implements (0.9.75).
pub const MHD_VERSION: c_uint = 0x00097500;
/// Length in bytes of an MD5 digest, as used by `MHD_digest_auth_check_digest`.
pub const MHD_MD5_DIGEST_SIZE: c_uint = 16;

// The following are written by hand in cbindgen.toml's trailer (cbindgen
// cannot print the casts); excluded from the header, for Rust use only.
/// Size of a response whose length is unknown.
pub const MHD_SIZE_UNKNOWN: u64 = u64::MAX;
/// Content reader result: end of the body.
pub const MHD_CONTENT_READER_END_OF_STREAM: ssize_t = -1;
/// Content reader result: abort the connection.
pub const MHD_CONTENT_READER_END_WITH_ERROR: ssize_t = -2;
/// Result of a digest check when the nonce is stale or invalid.
pub const MHD_INVALID_NONCE: c_int = -1;
/// The invalid socket value.
pub const MHD_INVALID_SOCKET: MHD_socket = -1;
/// Status-code flag asking for an "ICY" status line instead of "HTTP/1.x".
pub const MHD_ICY_FLAG: u32 = 1 << 31;

// ---------------------------------------------------------------------------
// HTTP status codes (emitted as `#define`s).

pub const MHD_HTTP_CONTINUE: c_uint = 100;
pub const MHD_HTTP_SWITCHING_PROTOCOLS: c_uint = 101;
pub const MHD_HTTP_PROCESSING: c_uint = 102;
pub const MHD_HTTP_EARLY_HINTS: c_uint = 103;
pub const MHD_HTTP_OK: c_uint = 200;
pub const MHD_HTTP_CREATED: c_uint = 201;
pub const MHD_HTTP_ACCEPTED: c_uint = 202;
pub const MHD_HTTP_NON_AUTHORITATIVE_INFORMATION: c_uint = 203;
pub const MHD_HTTP_NO_CONTENT: c_uint = 204;
pub const MHD_HTTP_RESET_CONTENT: c_uint = 205;
pub const MHD_HTTP_PARTIAL_CONTENT: c_uint = 206;
pub const MHD_HTTP_MULTI_STATUS: c_uint = 207;
pub const MHD_HTTP_ALREADY_REPORTED: c_uint = 208;
pub const MHD_HTTP_IM_USED: c_uint = 226;
pub const MHD_HTTP_MULTIPLE_CHOICES: c_uint = 300;
pub const MHD_HTTP_MOVED_PERMANENTLY: c_uint = 301;
pub const MHD_HTTP_FOUND: c_uint = 302;
pub const MHD_HTTP_SEE_OTHER: c_uint = 303;
pub const MHD_HTTP_NOT_MODIFIED: c_uint = 304;
pub const MHD_HTTP_USE_PROXY: c_uint = 305;
pub const MHD_HTTP_SWITCH_PROXY: c_uint = 306;
pub const MHD_HTTP_TEMPORARY_REDIRECT: c_uint = 307;
pub const MHD_HTTP_PERMANENT_REDIRECT: c_uint = 308;
pub const MHD_HTTP_BAD_REQUEST: c_uint = 400;
pub const MHD_HTTP_UNAUTHORIZED: c_uint = 401;
pub const MHD_HTTP_PAYMENT_REQUIRED: c_uint = 402;
pub const MHD_HTTP_FORBIDDEN: c_uint = 403;
pub const MHD_HTTP_NOT_FOUND: c_uint = 404;
pub const MHD_HTTP_METHOD_NOT_ALLOWED: c_uint = 405;
pub const MHD_HTTP_NOT_ACCEPTABLE: c_uint = 406;
pub const MHD_HTTP_PROXY_AUTHENTICATION_REQUIRED: c_uint = 407;
pub const MHD_HTTP_REQUEST_TIMEOUT: c_uint = 408;
pub const MHD_HTTP_CONFLICT: c_uint = 409;
pub const MHD_HTTP_GONE: c_uint = 410;
pub const MHD_HTTP_LENGTH_REQUIRED: c_uint = 411;
pub const MHD_HTTP_PRECONDITION_FAILED: c_uint = 412;
pub const MHD_HTTP_CONTENT_TOO_LARGE: c_uint = 413;
pub const MHD_HTTP_URI_TOO_LONG: c_uint = 414;
pub const MHD_HTTP_UNSUPPORTED_MEDIA_TYPE: c_uint = 415;
pub const MHD_HTTP_RANGE_NOT_SATISFIABLE: c_uint = 416;
pub const MHD_HTTP_EXPECTATION_FAILED: c_uint = 417;
pub const MHD_HTTP_MISDIRECTED_REQUEST: c_uint = 421;
pub const MHD_HTTP_UNPROCESSABLE_CONTENT: c_uint = 422;
pub const MHD_HTTP_LOCKED: c_uint = 423;
pub const MHD_HTTP_FAILED_DEPENDENCY: c_uint = 424;
pub const MHD_HTTP_TOO_EARLY: c_uint = 425;
pub const MHD_HTTP_UPGRADE_REQUIRED: c_uint = 426;
pub const MHD_HTTP_PRECONDITION_REQUIRED: c_uint = 428;
pub const MHD_HTTP_TOO_MANY_REQUESTS: c_uint = 429;
pub const MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE: c_uint = 431;
pub const MHD_HTTP_UNAVAILABLE_FOR_LEGAL_REASONS: c_uint = 451;
pub const MHD_HTTP_INTERNAL_SERVER_ERROR: c_uint = 500;
pub const MHD_HTTP_NOT_IMPLEMENTED: c_uint = 501;
pub const MHD_HTTP_BAD_GATEWAY: c_uint = 502;
pub const MHD_HTTP_SERVICE_UNAVAILABLE: c_uint = 503;
pub const MHD_HTTP_GATEWAY_TIMEOUT: c_uint = 504;
pub const MHD_HTTP_HTTP_VERSION_NOT_SUPPORTED: c_uint = 505;
pub const MHD_HTTP_VARIANT_ALSO_NEGOTIATES: c_uint = 506;
pub const MHD_HTTP_INSUFFICIENT_STORAGE: c_uint = 507;
pub const MHD_HTTP_LOOP_DETECTED: c_uint = 508;
pub const MHD_HTTP_NOT_EXTENDED: c_uint = 510;
pub const MHD_HTTP_NETWORK_AUTHENTICATION_REQUIRED: c_uint = 511;
pub const MHD_HTTP_RETRY_WITH: c_uint = 449;
pub const MHD_HTTP_BLOCKED_BY_WINDOWS_PARENTAL_CONTROLS: c_uint = 450;
pub const MHD_HTTP_BANDWIDTH_LIMIT_EXCEEDED: c_uint = 509;
pub const MHD_HTTP_METHOD_NOT_ACCEPTABLE: c_uint = 406;
pub const MHD_HTTP_REQUEST_ENTITY_TOO_LARGE: c_uint = 413;
pub const MHD_HTTP_PAYLOAD_TOO_LARGE: c_uint = 413;
pub const MHD_HTTP_REQUEST_URI_TOO_LONG: c_uint = 414;
pub const MHD_HTTP_REQUESTED_RANGE_NOT_SATISFIABLE: c_uint = 416;
pub const MHD_HTTP_UNPROCESSABLE_ENTITY: c_uint = 422;
pub const MHD_HTTP_UNORDERED_COLLECTION: c_uint = 425;
pub const MHD_HTTP_NO_RESPONSE: c_uint = 444;

// ---------------------------------------------------------------------------
// Basic C types.

/// A socket (a file descriptor on POSIX).
pub type MHD_socket = c_int;

/// A C `va_list` as it travels as a function argument (x86_64/aarch64 SysV:
/// a pointer). Rust never reads it; see `ffi::shim::call_logger`.
/// Shown as `va_list` in the header.
pub type MHD_va_list = *mut c_void;

// ---------------------------------------------------------------------------
// Opaque handles (no repr(C): cbindgen then emits `struct X;`). The
// runtime casts pointers to these to its own types.

/// Handle of a running daemon.
pub struct MHD_Daemon {
    _private: [u8; 0],
}

/// Handle of one client connection.
pub struct MHD_Connection {
    _private: [u8; 0],
}

/// Handle of a response.
pub struct MHD_Response {
    _private: [u8; 0],
}

/// Handle of a POST body parser.
pub struct MHD_PostProcessor {
    _private: [u8; 0],
}

/// Handle used by the socket-based upgrade API (kept for `MHD_upgrade_action`).
pub struct MHD_UpgradeResponseHandle {
    _private: [u8; 0],
}

// ---------------------------------------------------------------------------
// Enums. Members with a duplicate value (deprecated or alias names) cannot
// be Rust enum variants; they are plain consts here and `#define`s in C
// (cbindgen 0.29 applies [export.body] only to enums with data).

/// Yes/no result of most API calls.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MHD_Result {
    MHD_NO = 0,
    MHD_YES = 1,
}

impl MHD_Result {
    /// `MHD_YES` for `true`, `MHD_NO` for `false`.
    pub const fn from_bool(b: bool) -> Self {
        if b {
            MHD_Result::MHD_YES
        } else {
            MHD_Result::MHD_NO
        }
    }
}

/// `enum MHD_Result` as received from C (callback results).
pub type MHD_ResultInt = c_int;
/// `MHD_YES` as an integer.
pub const MHD_YES: c_int = 1;
/// `MHD_NO` as an integer.
pub const MHD_NO: c_int = 0;

/// Daemon flags (bits of the `flags` argument of `MHD_start_daemon`).
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MHD_FLAG {
    MHD_NO_FLAG = 0,
    MHD_USE_ERROR_LOG = 1,
    MHD_USE_TLS = 2,
    MHD_USE_THREAD_PER_CONNECTION = 4,
    MHD_USE_INTERNAL_POLLING_THREAD = 8,
    MHD_USE_IPv6 = 16,
    MHD_USE_PEDANTIC_CHECKS = 32,
    MHD_USE_POLL = 64,
    MHD_USE_POLL_INTERNAL_THREAD = 64 | 8,
    MHD_USE_SUPPRESS_DATE_NO_CLOCK = 128,
    MHD_USE_NO_LISTEN_SOCKET = 256,
    MHD_USE_EPOLL = 512,
    MHD_USE_EPOLL_INTERNAL_THREAD = 512 | 8,
    MHD_USE_ITC = 1024,
    MHD_USE_DUAL_STACK = 16 | 2048,
    MHD_USE_TURBO = 4096,
    MHD_ALLOW_SUSPEND_RESUME = 8192 | 1024,
    MHD_USE_TCP_FASTOPEN = 16384,
    MHD_ALLOW_UPGRADE = 32768,
    MHD_USE_AUTO = 65536,
    MHD_USE_AUTO_INTERNAL_THREAD = 65536 | 8,
    MHD_USE_POST_HANDSHAKE_AUTH_SUPPORT = 1 << 17,
    MHD_USE_INSECURE_TLS_EARLY_DATA = 1 << 18,
}

// Deprecated aliases of `MHD_FLAG` members (same values).
pub const MHD_USE_DEBUG: c_uint = 1;
pub const MHD_USE_SSL: c_uint = 2;
pub const MHD_USE_SELECT_INTERNALLY: c_uint = 8;
pub const MHD_USE_POLL_INTERNALLY: c_uint = 64 | 8;
pub const MHD_SUPPRESS_DATE_NO_CLOCK: c_uint = 128;
pub const MHD_USE_EPOLL_LINUX_ONLY: c_uint = 512;
pub const MHD_USE_EPOLL_INTERNALLY: c_uint = 512 | 8;
pub const MHD_USE_EPOLL_INTERNALLY_LINUX_ONLY: c_uint = 512 | 8;
pub const MHD_USE_PIPE_FOR_SHUTDOWN: c_uint = 1024;
pub const MHD_USE_EPOLL_TURBO: c_uint = 4096;
pub const MHD_USE_SUSPEND_RESUME: c_uint = 8192 | 1024;

/// `enum MHD_FLAG` as a combination of bits (e.g. `MHD_DaemonInfo::flags`).
pub type MHD_FLAGInt = c_uint;

/// Options of `MHD_start_daemon`.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MHD_OPTION {
    MHD_OPTION_END = 0,
    MHD_OPTION_CONNECTION_MEMORY_LIMIT = 1,
    MHD_OPTION_CONNECTION_LIMIT = 2,
    MHD_OPTION_CONNECTION_TIMEOUT = 3,
    MHD_OPTION_NOTIFY_COMPLETED = 4,
    MHD_OPTION_PER_IP_CONNECTION_LIMIT = 5,
    MHD_OPTION_SOCK_ADDR = 6,
    MHD_OPTION_URI_LOG_CALLBACK = 7,
    MHD_OPTION_HTTPS_MEM_KEY = 8,
    MHD_OPTION_HTTPS_MEM_CERT = 9,
    MHD_OPTION_HTTPS_CRED_TYPE = 10,
    MHD_OPTION_HTTPS_PRIORITIES = 11,
    MHD_OPTION_LISTEN_SOCKET = 12,
    MHD_OPTION_EXTERNAL_LOGGER = 13,
    MHD_OPTION_THREAD_POOL_SIZE = 14,
    MHD_OPTION_ARRAY = 15,
    MHD_OPTION_UNESCAPE_CALLBACK = 16,
    MHD_OPTION_DIGEST_AUTH_RANDOM = 17,
    MHD_OPTION_NONCE_NC_SIZE = 18,
    MHD_OPTION_THREAD_STACK_SIZE = 19,
    MHD_OPTION_HTTPS_MEM_TRUST = 20,
    MHD_OPTION_CONNECTION_MEMORY_INCREMENT = 21,
    MHD_OPTION_HTTPS_CERT_CALLBACK = 22,
    MHD_OPTION_TCP_FASTOPEN_QUEUE_SIZE = 23,
    MHD_OPTION_HTTPS_MEM_DHPARAMS = 24,
    MHD_OPTION_LISTENING_ADDRESS_REUSE = 25,
    MHD_OPTION_HTTPS_KEY_PASSWORD = 26,
    MHD_OPTION_NOTIFY_CONNECTION = 27,
    MHD_OPTION_LISTEN_BACKLOG_SIZE = 28,
    MHD_OPTION_STRICT_FOR_CLIENT = 29,
    MHD_OPTION_GNUTLS_PSK_CRED_HANDLER = 30,
    MHD_OPTION_HTTPS_CERT_CALLBACK2 = 31,
    MHD_OPTION_SERVER_INSANITY = 32,
    MHD_OPTION_SIGPIPE_HANDLED_BY_APP = 33,
    MHD_OPTION_TLS_NO_ALPN = 34,
}

/// `enum MHD_OPTION` as received from C.
pub type MHD_OPTIONInt = c_int;

/// Values of `MHD_OPTION_SERVER_INSANITY`.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MHD_DisableSanityCheck {
    MHD_DSC_SANE = 0,
}

/// One option in an `MHD_OPTION_ARRAY` (and in the array the C shim builds).
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct MHD_OptionItem {
    /// The option number (`enum MHD_OPTION`; unchecked integer).
    pub option: MHD_OPTIONInt,
    /// Integer argument, or the function of a (function, closure) pair.
    pub value: intptr_t,
    /// Pointer argument, or the closure of a (function, closure) pair.
    pub ptr_value: *mut c_void,
}

/// Where a key/value pair comes from.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MHD_ValueKind {
    MHD_RESPONSE_HEADER_KIND = 0,
    MHD_HEADER_KIND = 1,
    MHD_COOKIE_KIND = 2,
    MHD_POSTDATA_KIND = 4,
    MHD_GET_ARGUMENT_KIND = 8,
    MHD_FOOTER_KIND = 16,
}

/// `enum MHD_ValueKind` as received from C (may be a combination of bits).
pub type MHD_ValueKindInt = c_int;

/// Why a request ended (argument of the completion callback).
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MHD_RequestTerminationCode {
    MHD_REQUEST_TERMINATED_COMPLETED_OK = 0,
    MHD_REQUEST_TERMINATED_WITH_ERROR = 1,
    MHD_REQUEST_TERMINATED_TIMEOUT_REACHED = 2,
    MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN = 3,
    MHD_REQUEST_TERMINATED_READ_ERROR = 4,
    MHD_REQUEST_TERMINATED_CLIENT_ABORT = 5,
}

/// Connection start/close (argument of the connection notification callback).
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MHD_ConnectionNotificationCode {
    MHD_CONNECTION_NOTIFY_STARTED = 0,
    MHD_CONNECTION_NOTIFY_CLOSED = 1,
}

/// Result of `MHD_get_connection_info`; which member is valid depends on the query.
#[repr(C)]
#[derive(Copy, Clone)]
pub union MHD_ConnectionInfo {
    pub cipher_algorithm: c_int,
    pub protocol: c_int,
    pub suspended: c_int,
    pub connection_timeout: c_uint,
    pub http_status: c_uint,
    pub connect_fd: MHD_socket,
    pub header_size: size_t,
    pub tls_session: *mut c_void,
    pub client_cert: *mut c_void,
    pub client_addr: *mut sockaddr,
    pub daemon: *mut MHD_Daemon,
    pub socket_context: *mut c_void,
}

/// One piece of a response body for `MHD_create_response_from_iovec`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct MHD_IoVec {
    pub iov_base: *const c_void,
    pub iov_len: size_t,
}

/// Queries of `MHD_get_connection_info`.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MHD_ConnectionInfoType {
    MHD_CONNECTION_INFO_CIPHER_ALGO = 0,
    MHD_CONNECTION_INFO_PROTOCOL = 1,
    MHD_CONNECTION_INFO_CLIENT_ADDRESS = 2,
    MHD_CONNECTION_INFO_GNUTLS_SESSION = 3,
    MHD_CONNECTION_INFO_GNUTLS_CLIENT_CERT = 4,
    MHD_CONNECTION_INFO_DAEMON = 5,
    MHD_CONNECTION_INFO_CONNECTION_FD = 6,
    MHD_CONNECTION_INFO_SOCKET_CONTEXT = 7,
    MHD_CONNECTION_INFO_CONNECTION_SUSPENDED = 8,
    MHD_CONNECTION_INFO_CONNECTION_TIMEOUT = 9,
    MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE = 10,
    MHD_CONNECTION_INFO_HTTP_STATUS = 11,
    /// libmicrohttpd-rs only (HTTPS goes through OpenSSL): the connection's
    /// OpenSSL `SSL *` in `tls_session`, NULL before the handshake and on
    /// plain connections. (MHD_CONNECTION_INFO_GNUTLS_SESSION is always NULL.)
    MHD_CONNECTION_INFO_OPENSSL_SSL = 1000,
    /// libmicrohttpd-rs only: the client's certificate (OpenSSL `X509 *`,
    /// verified against MHD_OPTION_HTTPS_MEM_TRUST) in `client_cert`; NULL
    /// when the client sent none. Valid while the connection lives; do not free.
    MHD_CONNECTION_INFO_OPENSSL_PEER_CERT = 1001,
}

/// `enum MHD_ConnectionInfoType` as received from C.
pub type MHD_ConnectionInfoTypeInt = c_int;

/// Queries of `MHD_get_daemon_info`.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MHD_DaemonInfoType {
    MHD_DAEMON_INFO_KEY_SIZE = 0,
    MHD_DAEMON_INFO_MAC_KEY_SIZE = 1,
    MHD_DAEMON_INFO_LISTEN_FD = 2,
    MHD_DAEMON_INFO_EPOLL_FD_LINUX_ONLY = 3,
    MHD_DAEMON_INFO_CURRENT_CONNECTIONS = 4,
    MHD_DAEMON_INFO_FLAGS = 5,
    MHD_DAEMON_INFO_BIND_PORT = 6,
}

// Alias of a `MHD_DaemonInfoType` member (same value).
pub const MHD_DAEMON_INFO_EPOLL_FD: c_int = 3;

/// `enum MHD_DaemonInfoType` as received from C.
pub type MHD_DaemonInfoTypeInt = c_int;

/// Flags of `MHD_set_response_options`.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MHD_ResponseFlags {
    MHD_RF_NONE = 0,
    MHD_RF_HTTP_1_0_COMPATIBLE_STRICT = 1,
    MHD_RF_HTTP_1_0_SERVER = 2,
    MHD_RF_INSANITY_HEADER_CONTENT_LENGTH = 4,
    MHD_RF_SEND_KEEP_ALIVE_HEADER = 8,
}

// Aliases of `MHD_ResponseFlags` members (same values).
pub const MHD_RF_HTTP_VERSION_1_0_ONLY: c_uint = 1;
pub const MHD_RF_HTTP_VERSION_1_0_RESPONSE: c_uint = 2;

/// `enum MHD_ResponseFlags` as received from C (a combination of bits).
pub type MHD_ResponseFlagsInt = c_uint;

/// Options of `MHD_set_response_options` (only the terminator exists).
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MHD_ResponseOptions {
    MHD_RO_END = 0,
}

/// `enum MHD_ResponseOptions` as received from C.
pub type MHD_ResponseOptionsInt = c_int;

/// Ownership of the buffer given to `MHD_create_response_from_buffer`.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MHD_ResponseMemoryMode {
    MHD_RESPMEM_PERSISTENT = 0,
    MHD_RESPMEM_MUST_FREE = 1,
    MHD_RESPMEM_MUST_COPY = 2,
}

/// `enum MHD_ResponseMemoryMode` as received from C.
pub type MHD_ResponseMemoryModeInt = c_int;

/// Actions of the socket-based `MHD_upgrade_action` (kept for the ABI).
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MHD_UpgradeAction {
    MHD_UPGRADE_ACTION_CLOSE = 0,
    MHD_UPGRADE_ACTION_CORK_ON = 1,
    MHD_UPGRADE_ACTION_CORK_OFF = 2,
}

/// `enum MHD_UpgradeAction` as received from C.
pub type MHD_UpgradeActionInt = c_int;

/// Bits returned by an upgrade handler (see design/UPGRADE.md).
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MHD_UpgradeEventMask {
    MHD_UPGRADE_EVENT_TERMINATE = 0,
    MHD_UPGRADE_EVENT_READ = 1,
    MHD_UPGRADE_EVENT_WRITE = 2,
    MHD_UPGRADE_EVENT_EXTERNAL = 4,
    MHD_UPGRADE_EVENT_CORK = 8,
}

/// `enum MHD_UpgradeEventMask` as returned by the handler: a combination of
/// bits (READ|WRITE is 3), decode with bitflags, never as a Rust enum.
pub type MHD_UpgradeEventMaskInt = c_uint;

/// Digest algorithms of the digest-auth functions.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MHD_DigestAuthAlgorithm {
    MHD_DIGEST_ALG_AUTO = 0,
    MHD_DIGEST_ALG_MD5 = 1,
    MHD_DIGEST_ALG_SHA256 = 2,
}

/// `enum MHD_DigestAuthAlgorithm` as received from C.
pub type MHD_DigestAuthAlgorithmInt = c_int;

/// Options of `MHD_set_connection_option`.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MHD_CONNECTION_OPTION {
    MHD_CONNECTION_OPTION_TIMEOUT = 0,
}

/// `enum MHD_CONNECTION_OPTION` as received from C.
pub type MHD_CONNECTION_OPTIONInt = c_int;

/// Result of `MHD_get_daemon_info`; which member is valid depends on the query.
#[repr(C)]
#[derive(Copy, Clone)]
pub union MHD_DaemonInfo {
    pub key_size: size_t,
    pub mac_key_size: size_t,
    pub listen_fd: MHD_socket,
    pub port: u16,
    pub epoll_fd: c_int,
    pub num_connections: c_uint,
    /// `enum MHD_FLAG` in C; a combination of bits.
    pub flags: MHD_FLAGInt,
}

/// Features for `MHD_is_feature_supported`.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MHD_FEATURE {
    MHD_FEATURE_MESSAGES = 1,
    MHD_FEATURE_TLS = 2,
    MHD_FEATURE_HTTPS_CERT_CALLBACK = 3,
    MHD_FEATURE_IPv6 = 4,
    MHD_FEATURE_IPv6_ONLY = 5,
    MHD_FEATURE_POLL = 6,
    MHD_FEATURE_EPOLL = 7,
    MHD_FEATURE_SHUTDOWN_LISTEN_SOCKET = 8,
    MHD_FEATURE_SOCKETPAIR = 9,
    MHD_FEATURE_TCP_FASTOPEN = 10,
    MHD_FEATURE_BASIC_AUTH = 11,
    MHD_FEATURE_DIGEST_AUTH = 12,
    MHD_FEATURE_POSTPROCESSOR = 13,
    MHD_FEATURE_HTTPS_KEY_PASSWORD = 14,
    MHD_FEATURE_LARGE_FILE = 15,
    MHD_FEATURE_THREAD_NAMES = 16,
    MHD_FEATURE_UPGRADE = 17,
    MHD_FEATURE_RESPONSES_SHARED_FD = 18,
    MHD_FEATURE_AUTODETECT_BIND_PORT = 19,
    MHD_FEATURE_AUTOSUPPRESS_SIGPIPE = 20,
    MHD_FEATURE_SENDFILE = 21,
    MHD_FEATURE_THREADS = 22,
    MHD_FEATURE_HTTPS_CERT_CALLBACK2 = 23,
}

// Aliases of `MHD_FEATURE` members (same values).
pub const MHD_FEATURE_SSL: c_int = 2;
pub const MHD_THREAD_NAMES: c_int = 16;

/// `enum MHD_FEATURE` as received from C.
pub type MHD_FEATUREInt = c_int;

// ---------------------------------------------------------------------------
// Callback types. Every result that is an enum in C is an integer here.

/// Printf-style logger (`MHD_OPTION_EXTERNAL_LOGGER`); call it through
/// `ffi::shim::call_logger`, Rust cannot build a `va_list`.
pub type MHD_LogCallback =
    Option<unsafe extern "C" fn(cls: *mut c_void, fm: *const c_char, ap: MHD_va_list)>;

/// TLS-PSK credential lookup (`MHD_OPTION_GNUTLS_PSK_CRED_HANDLER`).
pub type MHD_PskServerCredentialsCallback = Option<
    unsafe extern "C" fn(
        cls: *mut c_void,
        connection: *const MHD_Connection,
        username: *const c_char,
        psk: *mut *mut c_void,
        psk_size: *mut size_t,
    ) -> c_int,
>;

/// Called on a fatal internal error (`MHD_set_panic_func`).
pub type MHD_PanicCallback = Option<
    unsafe extern "C" fn(cls: *mut c_void, file: *const c_char, line: c_uint, reason: *const c_char),
>;

/// Decides whether to accept a client (`MHD_start_daemon`'s `apc`).
pub type MHD_AcceptPolicyCallback = Option<
    unsafe extern "C" fn(cls: *mut c_void, addr: *const sockaddr, addrlen: socklen_t) -> MHD_ResultInt,
>;

/// The application's request handler (`MHD_start_daemon`'s `dh`).
pub type MHD_AccessHandlerCallback = Option<
    unsafe extern "C" fn(
        cls: *mut c_void,
        connection: *mut MHD_Connection,
        url: *const c_char,
        method: *const c_char,
        version: *const c_char,
        upload_data: *const c_char,
        upload_data_size: *mut size_t,
        con_cls: *mut *mut c_void,
    ) -> MHD_ResultInt,
>;

/// Called when a request ends (`MHD_OPTION_NOTIFY_COMPLETED`).
pub type MHD_RequestCompletedCallback = Option<
    unsafe extern "C" fn(
        cls: *mut c_void,
        connection: *mut MHD_Connection,
        con_cls: *mut *mut c_void,
        toe: MHD_RequestTerminationCode,
    ),
>;

/// Called when a connection starts or closes (`MHD_OPTION_NOTIFY_CONNECTION`).
pub type MHD_NotifyConnectionCallback = Option<
    unsafe extern "C" fn(
        cls: *mut c_void,
        connection: *mut MHD_Connection,
        socket_context: *mut *mut c_void,
        toe: MHD_ConnectionNotificationCode,
    ),
>;

/// Iterator over key/value pairs (NUL-terminated strings).
pub type MHD_KeyValueIterator = Option<
    unsafe extern "C" fn(
        cls: *mut c_void,
        kind: MHD_ValueKind,
        key: *const c_char,
        value: *const c_char,
    ) -> MHD_ResultInt,
>;

/// Iterator over key/value pairs with explicit sizes.
pub type MHD_KeyValueIteratorN = Option<
    unsafe extern "C" fn(
        cls: *mut c_void,
        kind: MHD_ValueKind,
        key: *const c_char,
        key_size: size_t,
        value: *const c_char,
        value_size: size_t,
    ) -> MHD_ResultInt,
>;

/// Produces the body of a callback response.
pub type MHD_ContentReaderCallback = Option<
    unsafe extern "C" fn(cls: *mut c_void, pos: u64, buf: *mut c_char, max: size_t) -> ssize_t,
>;

/// Releases the closure of a content reader (or a buffer).
pub type MHD_ContentReaderFreeCallback = Option<unsafe extern "C" fn(cls: *mut c_void)>;

/// Receives parsed POST data.
pub type MHD_PostDataIterator = Option<
    unsafe extern "C" fn(
        cls: *mut c_void,
        kind: MHD_ValueKind,
        key: *const c_char,
        filename: *const c_char,
        content_type: *const c_char,
        transfer_encoding: *const c_char,
        data: *const c_char,
        off: u64,
        size: size_t,
    ) -> MHD_ResultInt,
>;

/// The event-mask upgrade handler of design/UPGRADE.md. Returns a
/// combination of `MHD_UpgradeEventMask` bits, received as `c_uint`.
pub type MHD_UpgradeHandler = Option<
    unsafe extern "C" fn(
        cls: *mut c_void,
        connection: *mut MHD_Connection,
        con_cls: *mut *mut c_void,
        data_in_size: *mut size_t,
        data_in: *const c_char,
        data_out_size: *mut size_t,
        data_out: *mut c_char,
    ) -> MHD_UpgradeEventMaskInt,
>;

// Callbacks that libmicrohttpd declares only in option documentation; the
// runtime casts `MHD_OptionItem::value` to these. Not in the header.

/// `MHD_OPTION_URI_LOG_CALLBACK`: returns the initial `*con_cls`.
pub type MHD_UriLogCallback = Option<
    unsafe extern "C" fn(cls: *mut c_void, uri: *const c_char, con: *mut MHD_Connection) -> *mut c_void,
>;

/// `MHD_OPTION_UNESCAPE_CALLBACK`: unescapes `s` in place, returns the new length.
pub type MHD_UnescapeCallback = Option<
    unsafe extern "C" fn(cls: *mut c_void, conn: *mut MHD_Connection, s: *mut c_char) -> size_t,
>;
