/**
 * What the request detail page reads, within three Atlassian calls on a warm view: the visibility
 * gate and the request with every list it shows expanded (RequestService.visible), then the
 * approvals and the transitions, cached per request version. A list Atlassian cut short in the
 * expansion is read whole from its own resource.
 */
import { type AtlassianClient, attachmentId } from './atlassian/client.js';
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
import { NotVisibleError, type Reader, type RequestService, type VisibleRequest } from './requests.js';

export interface RequestDetail extends VisibleRequest {
  participants: UserDTO[];
  statusHistory: StatusDTO[];
  /** Public comments only, each with its files and rendered HTML. */
  comments: CommentDTO[];
  /** The files the customer may open: every attachment except those added with an internal comment. */
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
 * The attachments a customer may see: all except those added with an internal comment (the
 * service account, an agent, is shown both). Needs every comment with its files.
 */
export function customerAttachments(
  attachments: readonly AttachmentDTO[],
  comments: readonly CommentDTO[],
): AttachmentDTO[] {
  const hidden = new Set(
    comments
      .filter((c) => c.public !== true)
      .flatMap((c) => (c.attachments?.values ?? []).flatMap((a) => attachmentId(a) ?? [])),
  );
  return attachments.filter((a) => {
    const id = attachmentId(a);
    return id !== undefined && !hidden.has(id);
  });
}

export class RequestDetails {
  readonly #client: AtlassianClient;
  readonly #requests: RequestService;

  constructor(client: AtlassianClient, requests: RequestService) {
    this.#client = client;
    this.#requests = requests;
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
      whole(request.status, () => this.#client.statusHistory(issueKey)),
      this.#requests.approvals(issueKey, version),
      mayAct ? this.#requests.transitions(issueKey, version) : [],
      this.#client.serviceAccountId(),
    ]);
    return {
      ...visible,
      ...files,
      participants,
      statusHistory,
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

  /** Public comments and the files a customer may open, from every comment with its files. */
  async #files(
    issueKey: string,
    request: CustomerRequestDTO,
  ): Promise<{ comments: CommentDTO[]; attachments: AttachmentDTO[] }> {
    const [attachments, comments] = await Promise.all([
      whole(request.attachments, () => this.#client.attachments(issueKey)),
      whole(request.comments, () => this.#client.allComments(issueKey)).then((all) =>
        Promise.all(all.map((c) => this.#withAllFiles(issueKey, c))),
      ),
    ]);
    return {
      // Belt and braces: only public comments, whatever the API returned.
      comments: comments.filter((c) => c.public === true),
      attachments: customerAttachments(attachments, comments),
    };
  }

  /**
   * The comment with every file it added (a comment's file list may be a first page too). An
   * internal comment's files must all be known, to be hidden; a public one's are only shown.
   */
  async #withAllFiles(issueKey: string, comment: CommentDTO): Promise<CommentDTO> {
    const files = comment.attachments;
    if (files ? files.isLastPage !== false : comment.public === true) return comment;
    const values = await this.#client.commentAttachments(issueKey, comment.id);
    return { ...comment, attachments: { values, isLastPage: true } };
  }
}
