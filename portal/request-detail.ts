/**
 * What the request detail page reads, within three Atlassian calls on a warm view: the visibility
 * gate and the request with every list it shows expanded (RequestService.visible), then the
 * approvals and the transitions, cached per request version. A list Atlassian cut short in the
 * expansion is read whole from its own resource.
 */
import { type AtlassianClient, attachmentId, type ListRead } from './atlassian/client.js';
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
  approvals: ApprovalDTO[];
  /** Empty for a customer who may not change the request. */
  transitions: TransitionDTO[];
  serviceAccountId: string;
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
  const hidden = fileIds(read.internal ?? read.comments.filter((c) => c.public !== true));
  const inPublicComments = fileIds(read.comments.filter((c) => c.public === true));
  return attachments.filter((a) => {
    const id = attachmentId(a);
    if (id === undefined || hidden.has(id)) return false;
    return inPublicComments.has(id) || publicAuthors.has(a.author?.accountId ?? '');
  });
}

/** The authors of the files no public comment read added: whether they are customers decides those. */
const undecidedAuthors = (
  attachments: readonly AttachmentDTO[],
  read: CommentsRead,
  serviceAccountId: string,
) => {
  const inPublicComments = fileIds(read.comments.filter((c) => c.public === true));
  return attachments.flatMap((a) => {
    const author = a.author?.accountId;
    const id = attachmentId(a);
    return author === undefined || author === serviceAccountId || inPublicComments.has(id ?? '')
      ? []
      : [author];
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

  /** One of the request's files the customer may open, or NotVisibleError. */
  async file(reader: Reader, issueKey: string, id: string): Promise<AttachmentDTO> {
    const visible = await this.#requests.visible(reader, issueKey, { detail: true });
    const { attachments } = await this.#files(issueKey, visible.request);
    // The id must be one of this request's visible files: no reading another request's files by id.
    const attachment = attachments.find((a) => attachmentId(a) === id);
    if (!attachment) throw new NotVisibleError();
    return attachment;
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
   * every file, an internal comment's too).
   */
  async shownFileName(reader: Reader, issueKey: string): Promise<(name: string) => boolean> {
    const { request } = await this.#requests.visible(reader, issueKey, { detail: true });
    // One read of the list for both questions: read twice at once, a post naming a file cost twice
    // the page's Atlassian calls (ADR 0274).
    const read = this.#attachments(issueKey, request);
    const [every, { attachments }] = await Promise.all([read, this.#files(issueKey, request, read)]);
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
  ): Promise<{ comments: CommentDTO[]; earlierCommentsUnread: boolean; attachments: AttachmentDTO[] }> {
    const [attachments, read, serviceAccountId] = await Promise.all([
      every,
      this.#comments(issueKey, request.comments),
      this.#client.serviceAccountId(),
    ]);
    const customers = await this.#customers.among(undecidedAuthors(attachments, read, serviceAccountId));
    return {
      // Belt and braces: only public comments, whatever the API returned; in the order written,
      // whatever order it listed them in (ADR 0384).
      comments: oldestFirst(read.comments.filter((c) => c.public === true)),
      earlierCommentsUnread: !read.complete,
      attachments: customerAttachments(attachments, read, new Set([serviceAccountId, ...customers])),
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
