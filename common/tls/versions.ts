/** The lowest TLS version any jsm-sso server or client speaks. */
export const MIN_TLS_VERSION = 'TLSv1.2' as const;

/** The HSTS value every HTTPS response carries: one year, subdomains included. */
export const HSTS_HEADER_VALUE = 'max-age=31536000; includeSubDomains';
