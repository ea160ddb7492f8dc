/** The subset of Atlassian's DTOs the portal reads (names as in the OpenAPI spec). */
export interface PagedDTO<T> {
  size?: number;
  start?: number;
  limit?: number;
  isLastPage?: boolean;
  values: T[];
}

export interface UserDTO {
  accountId: string;
  displayName?: string;
  emailAddress?: string;
  active?: boolean;
}

/** A Jira platform user (`/rest/api/3/user`, `/user/search`, `/myself`): it also says what kind of account it is. */
export interface PlatformUserDTO extends UserDTO {
  /** `atlassian`: a licensed user (agent, admin); `app`: a system or service account; `customer`: portal-only. */
  accountType?: 'atlassian' | 'app' | 'customer' | 'unknown';
}

export interface DateDTO {
  iso8601?: string;
  friendly?: string;
  epochMillis?: number;
}

export interface ServiceDeskDTO {
  id: string;
  projectId: string;
  projectKey?: string;
  projectName?: string;
}

export interface RequestTypeGroupDTO {
  id: string;
  name: string;
}

export interface RequestTypeDTO {
  id: string;
  name: string;
  description?: string;
  helpText?: string;
  serviceDeskId?: string;
  groupIds?: string[];
  /** Links to the icon in several sizes (`48x48`, `24x24`, …), on the Atlassian site. */
  icon?: { id?: string; _links?: { iconUrls?: Record<string, string> } };
}

export interface FieldValueDTO {
  value: string;
  label: string;
  children?: FieldValueDTO[];
}

export interface RequestTypeFieldDTO {
  fieldId: string;
  name: string;
  description?: string;
  required: boolean;
  visible?: boolean;
  validValues?: FieldValueDTO[];
  defaultValues?: FieldValueDTO[];
  jiraSchema?: { type?: string; items?: string; system?: string; custom?: string };
}

export interface RequestTypeFieldsDTO {
  requestTypeFields: RequestTypeFieldDTO[];
  canRaiseOnBehalfOf?: boolean;
  canAddRequestParticipants?: boolean;
}

export interface StatusDTO {
  status: string;
  statusCategory?: string;
  statusDate?: DateDTO;
}

export interface CustomerRequestDTO {
  issueId: string;
  issueKey: string;
  requestTypeId: string;
  serviceDeskId: string;
  createdDate?: DateDTO;
  reporter?: UserDTO;
  currentStatus?: StatusDTO;
  requestFieldValues?: { fieldId: string; label?: string; value?: unknown; renderedValue?: unknown }[];
  participants?: PagedDTO<UserDTO>;
  /** Expansions (`expand=status,sla,attachment,comment,...`): first pages of the request's lists. */
  status?: PagedDTO<StatusDTO>;
  sla?: PagedDTO<SlaDTO>;
  attachments?: PagedDTO<AttachmentDTO>;
  comments?: PagedDTO<CommentDTO>;
}

export interface CommentDTO {
  id: string;
  body?: string;
  public: boolean;
  attachments?: PagedDTO<AttachmentDTO>;
  author?: UserDTO;
  created?: DateDTO;
  /** With `renderedBody` (or the request's `comment.renderedBody`): the body as Atlassian renders it. */
  renderedBody?: { html?: string };
}

export interface AttachmentDTO {
  filename: string;
  mimeType?: string;
  size?: number;
  created?: DateDTO;
  author?: UserDTO;
  _links?: { content?: string; self?: string; jiraRest?: string; thumbnail?: string };
}

export interface ApprovalDTO {
  id: string;
  name?: string;
  finalDecision?: Decision;
  canAnswerApproval?: boolean;
  approvers?: { approver?: UserDTO; approverDecision?: Decision }[];
  createdDate?: DateDTO;
  completedDate?: DateDTO;
}

export type Decision = 'approved' | 'declined' | 'pending';

export interface TransitionDTO {
  id: string;
  name: string;
}

export interface SlaDTO {
  id: string;
  name: string;
  ongoingCycle?: { breached?: boolean; remainingTime?: { friendly?: string }; breachTime?: DateDTO };
  completedCycles?: { breached?: boolean; elapsedTime?: { friendly?: string } }[];
}

export interface OrganizationDTO {
  id: string;
  name: string;
}

export interface ArticleDTO {
  title?: string;
  excerpt?: string;
  source?: { pageId?: string; spaceKey?: string; type?: string };
  content?: { iframeSrc?: string };
}

export interface JiraField {
  id: string;
  name: string;
  schema?: { custom?: string; type?: string };
}

export interface JqlIssue {
  id: string;
  key: string;
  fields: Record<string, unknown>;
}

/** An Atlassian Document Format node (a comment's `body` in the platform's v3 API). */
export interface AdfNode {
  type: string;
  text?: string;
  content?: AdfNode[];
}

/** The platform's `PageOfComments` (`GET /rest/api/3/issue/{key}/comment`), as far as the portal reads it. */
export interface PageOfComments {
  startAt?: number;
  total?: number;
  comments: { id: string; body?: AdfNode; jsdPublic?: boolean }[];
}

export interface JqlSearchResult {
  issues: JqlIssue[];
  nextPageToken?: string;
  isLast?: boolean;
}
