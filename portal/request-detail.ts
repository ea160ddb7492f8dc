/**
 * What the request detail page reads, within three Atlassian calls on a warm view: the visibility
 * gate and the request with every list it shows expanded (RequestService.visible), then the
 * approvals and the transitions, cached per request version. A list Atlassian cut short in the
 * expansion is read whole from its own resource.
 */
import { JsmSsoError } from '../common/errors.js';
import { type AtlassianClient, attachmentId, type ListRead } from './atlassian/client.js';
import { AtlassianError, retryAfterSecondsOf } from './atlassian/errors.js';
import type {
  ApprovalDTO,
  AttachmentDTO,
  CommentDTO,
  CustomerRequestDTO,
  PagedDTO,
  StatusDTO,
  TransitionDTO,
  UserDTO,
} from './atlassian/types.js';
import { oldestFirst } from './comment-order.js';
import type { CustomerAccounts } from './customer-accounts.js';
import { NotVisibleError, type Reader, type RequestService, type VisibleRequest } from './requests.js';

export interface RequestDetail extends VisibleRequest {
  participants: UserDTO[];
  /** The statuses read, newest first: all of them, or the newest `MAX_PAGES` pages. */
  statusHistory: StatusDTO[];
  /** Older statuses than those read exist (a history longer than is read): the page says so. */
  olderStatusesUnread: boolean;
  /** Public comments only, oldest first, each with its files and rendered HTML: the newest, when not all are read. */
  comments: CommentDTO[];
  /** Earlier comments than those read exist (a list longer than is read, ADR 0225, 0293): the page says so. */
  earlierCommentsUnread: boolean;
  /** The files the customer may open: those known public (`customerAttachments`). */
  attachments: AttachmentDTO[];
  /** Files not offered now because the lookup that decides them failed (ADR 0388). */
  unlistedFiles?: UnlistedFiles | undefined;
  approvals: ApprovalDTO[];
  /** Empty for a customer who may not change the request. */
  transitions: TransitionDTO[];
  serviceAccountId: string;
}

/**
 * The files whose visibility hangs on their authors' account types, when Atlassian could not say
 * them (a 5xx, a 429 past what a page may wait, a timeout): neither offered nor said missing, and
 * why (ADR 0388).
 */
export interface UnlistedFiles {
  ids: ReadonlySet<string>;
  because: AtlassianError;
}

/**
 * A file whose visibility hangs on an account-type lookup that failed: not served, and not a 404,
 * which would say it is not there (ADR 0388). 503 with Retry-After: asked again later, it is decided.
 */
export class FileVisibilityUnknownError extends JsmSsoError {
  readonly retryAfterSeconds: number;
  constructor(readonly lookup: AtlassianError) {
    super('PORTAL_FILE_VISIBILITY_UNKNOWN', 'whether the customer may open the file cannot be decided now', {
      status: 503,
      cause: lookup,
    });
    this.retryAfterSeconds = retryAfterSecondsOf(lookup);
  }
}

/** The whole list: the expansion when it is complete, else the list's own resource. */
function whole<T>(expanded: PagedDTO<T> | undefined, read: () => Promise<T[]>): Promise<T[]> {
  return expanded && expanded.isLastPage !== false ? Promise.resolve(expanded.values) : read();
}

/**
 * A request's comments as read: `comments`, all of them or as many as could be read (public ones
 * shown, internal ones hiding their files), and `internal`, every internal comment with every file
 * it added, when that is known (undefined when it is not: a list longer than is read, ADR 0225).
 */
export interface CommentsRead {
  comments: CommentDTO[];
  /** Every comment was read (the page shows the newest ones read otherwise, and says so). */
  complete: boolean;
  internal: CommentDTO[] | undefined;
}

const fileIds = (comments: readonly CommentDTO[]) =>
  new Set(comments.flatMap((c) => (c.attachments?.values ?? []).flatMap((a) => attachmentId(a) ?? [])));

/** The files the comments read decide: those of an internal comment, hidden; of a public one, shown. */
function decidedByComments(read: CommentsRead) {
  return {
    hidden: fileIds(read.internal ?? read.comments.filter((c) => c.public !== true)),
    inPublicComments: fileIds(read.comments.filter((c) => c.public === true)),
  };
}

/**
 * The attachments a customer may see, decided from what is known: Atlassian shows the service account
 * (an agent) every file and says of none whether it is public (ADR 0375). Known public: a file of a
 * public comment read, and a file `publicAuthors` added (a customer, who can add no other, or the
 * portal's own service account, which adds public files only); never one of an internal comment read.
 * Any other file (one an agent added without a comment, or with a comment not read) is not offered.
 */
export function customerAttachments(
  attachments: readonly AttachmentDTO[],
  read: CommentsRead,
  publicAuthors: ReadonlySet<string>,
): AttachmentDTO[] {
  const { hidden, inPublicComments } = decidedByComments(read);
  return attachments.filter((a) => {
    const id = attachmentId(a);
    if (id === undefined || hidden.has(id)) return false;
    return inPublicComments.has(id) || publicAuthors.has(a.author?.accountId ?? '');
  });
}

/**
 * The files whose authors' account types decide them (`customerAttachments`): none a comment read
 * decides, nor one the service account added. An internal comment's are not asked about: hidden
 * whatever the answer, they need no lookup, whose failure leaves them as they are (ADR 0388).
 */
const undecidedFiles = (
  attachments: readonly AttachmentDTO[],
  read: CommentsRead,
  serviceAccountId: string,
) => {
  const { hidden, inPublicComments } = decidedByComments(read);
  return attachments.filter((a) => {
    const id = attachmentId(a);
    const author = a.author?.accountId;
    return (
      id !== undefined &&
      !hidden.has(id) &&
      !inPublicComments.has(id) &&
      author !== undefined &&
      author !== serviceAccountId
    );
  });
};

export class RequestDetails {
  readonly #client: AtlassianClient;
  readonly #requests: RequestService;

  readonly #customers: CustomerAccounts;

  constructor(client: AtlassianClient, requests: RequestService, customers: CustomerAccounts) {
    this.#client = client;
    this.#requests = requests;
    this.#customers = customers;
  }

  /** Everything the detail page shows, or NotVisibleError (RequestService.visible decides). */
  async read(reader: Reader, issueKey: string): Promise<RequestDetail> {
    const visible = await this.#requests.visible(reader, issueKey, { detail: true });
    const { request, version, mayAct } = visible;
    // No SLAs: Atlassian gives them to agents only, and the native portal never shows them to a
    // customer; the service account could read them, which would leak the desk's internal goals.
    const [files, participants, statusHistory, approvals, transitions, serviceAccountId] = await Promise.all([
      this.#files(issueKey, request),
      whole(request.participants, () => this.#client.participants(issueKey)),
      this.#statusHistory(issueKey, request.status),
      this.#requests.approvals(issueKey, version),
      mayAct ? this.#requests.transitions(issueKey, version) : [],
      this.#client.serviceAccountId(),
    ]);
    return {
      ...visible,
      ...files,
      participants,
      statusHistory: statusHistory.values,
      olderStatusesUnread: !statusHistory.complete,
      approvals,
      transitions,
      serviceAccountId,
    };
  }

  /**
   * One of the request's files the customer may open, else NotVisibleError; FileVisibilityUnknownError
   * for one whose author Atlassian could not say now is a customer.
   */
  async file(reader: Reader, issueKey: string, id: string): Promise<AttachmentDTO> {
    const visible = await this.#requests.visible(reader, issueKey, { detail: true });
    const { attachments, unlistedFiles } = await this.#files(issueKey, visible.request);
    // The id must be one of this request's visible files: no reading another request's files by id.
    const attachment = attachments.find((a) => attachmentId(a) === id);
    if (attachment) return attachment;
    if (unlistedFiles?.ids.has(id)) throw new FileVisibilityUnknownError(unlistedFiles.because);
    throw new NotVisibleError();
  }

  /**
   * The status history: the expansion when it holds it all, else its own resource, read as far as
   * the client reads a list. Only shown, it decides nothing: a longer one is shown cut, and says so
   * (ADR 0257), rather than refusing the page.
   */
  async #statusHistory(
    issueKey: string,
    expanded: PagedDTO<StatusDTO> | undefined,
  ): Promise<ListRead<StatusDTO>> {
    return expanded && expanded.isLastPage !== false
      ? { values: expanded.values, complete: true }
      : this.#client.statusHistory(issueKey);
  }

  /**
   * Which file names a customer's text may name and Jira still resolve (wiki-files.ts): a name one
   * of the files she may open has, and no other file of the request (Jira resolves a name against
   * every file, an internal comment's too). FileVisibilityUnknownError while some file cannot be
   * decided.
   */
  async shownFileName(reader: Reader, issueKey: string): Promise<(name: string) => boolean> {
    const { request } = await this.#requests.visible(reader, issueKey, { detail: true });
    // One read of the list for both questions: read twice at once, a post naming a file cost twice
    // the page's Atlassian calls (ADR 0274).
    const read = this.#attachments(issueKey, request);
    const [every, { attachments, unlistedFiles }] = await Promise.all([
      read,
      this.#files(issueKey, request, read),
    ]);
    // A text naming a file the lookup could not decide would lose the reference for good if
    // written now: nothing is written, the text kept for sending again (ADR 0388).
    if (unlistedFiles) throw new FileVisibilityUnknownError(unlistedFiles.because);
    const open = new Set(attachments.flatMap((a) => attachmentId(a) ?? []));
    const names = (keep: (a: AttachmentDTO) => boolean) => new Set(every.filter(keep).map((a) => a.filename));
    const shown = names((a) => open.has(attachmentId(a) ?? ''));
    const hidden = names((a) => !open.has(attachmentId(a) ?? ''));
    return (name) => shown.has(name) && !hidden.has(name);
  }

  /** Every file of the request: the expansion when it holds them all, else their own resource. */
  #attachments(issueKey: string, request: CustomerRequestDTO): Promise<AttachmentDTO[]> {
    return whole(request.attachments, () => this.#client.attachments(issueKey));
  }

  /**
   * Public comments and the files a customer may open, from the comments with their files and
   * `every` file of the request (read here unless the caller already reads it).
   */
  async #files(
    issueKey: string,
    request: CustomerRequestDTO,
    every = this.#attachments(issueKey, request),
  ): Promise<{
    comments: CommentDTO[];
    earlierCommentsUnread: boolean;
    attachments: AttachmentDTO[];
    unlistedFiles: UnlistedFiles | undefined;
  }> {
    const [attachments, read, serviceAccountId] = await Promise.all([
      every,
      this.#comments(issueKey, request.comments),
      this.#client.serviceAccountId(),
    ]);
    const undecided = undecidedFiles(attachments, read, serviceAccountId);
    const customers = await this.#customers.among(undecided.flatMap((a) => a.author?.accountId ?? [])).then(
      (found) => ({ found, failure: undefined }),
      // The files the lookup decides are only some of the page: the rest is known without it.
      (err: unknown) => {
        if (!(err instanceof AtlassianError)) throw err;
        return { found: new Set<string>(), failure: err };
      },
    );
    return {
      // Belt and braces: only public comments, whatever the API returned; in the order written,
      // whatever order it listed them in (ADR 0384).
      comments: oldestFirst(read.comments.filter((c) => c.public === true)),
      earlierCommentsUnread: !read.complete,
      attachments: customerAttachments(attachments, read, new Set([serviceAccountId, ...customers.found])),
      unlistedFiles: customers.failure && {
        ids: new Set(undecided.flatMap((a) => attachmentId(a) ?? [])),
        because: customers.failure,
      },
    };
  }

  /**
   * The request's comments with their files: the expansion when it holds them all (no call), else
   * every comment from its own resource (the newest, when more than are read: ADR 0293); when not all
   * are read, the internal ones
   * alone (`public=false&internal=true`), so that their files are still known, and hidden.
   */
  async #comments(issueKey: string, expanded: PagedDTO<CommentDTO> | undefined): Promise<CommentsRead> {
    const all =
      expanded && expanded.isLastPage !== false
        ? { values: expanded.values, complete: true }
        : await this.#client.newestComments(issueKey);
    const comments = await this.#withAllFiles(issueKey, all.values);
    if (all.complete)
      return { comments, complete: true, internal: comments.filter((c) => c.public !== true) };
    const internal = await this.#client.internalComments(issueKey);
    return {
      comments,
      complete: false,
      internal: internal.complete ? await this.#withAllFiles(issueKey, internal.values) : undefined,
    };
  }

  /**
   * The comments, each with every file it added (a comment's file list may be a first page too). An
   * internal comment's files must all be known, to be hidden; a public one's are only shown.
   */
  #withAllFiles(issueKey: string, comments: readonly CommentDTO[]): Promise<CommentDTO[]> {
    return Promise.all(
      comments.map(async (comment) => {
        const files = comment.attachments;
        if (files ? files.isLastPage !== false : comment.public === true) return comment;
        const values = await this.#client.commentAttachments(issueKey, comment.id);
        return { ...comment, attachments: { values, isLastPage: true } };
      }),
    );
  }
}
