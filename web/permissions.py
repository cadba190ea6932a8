"""Who may do what, in one place: every route asks :func:`allows` (or :func:`require`) before acting.

A role allows an action over a *scope*: ``all`` tasks, the tasks a unit takes part
in (``member``: lead or coordinating), or only those it leads (``lead``). Admins
and viewers see everything; a unit account sees its own unit's tasks and acts only
on those it leads, as the Telegram bot lets a unit's chat do.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from store.models import UserRole


class Action(StrEnum):
    VIEW_DASHBOARD = "view_dashboard"
    VIEW_TASKS = "view_tasks"
    MARK_DONE = "mark_done"
    REOPEN = "reopen"
    EXTEND = "extend"
    SET_DUE = "set_due"
    REQUEST_EXTENSION = "request_extension"
    VIEW_RULES = "view_rules"
    EDIT_RULES = "edit_rules"
    EDIT_TEMPLATES = "edit_templates"
    VIEW_UPCOMING = "view_upcoming"
    VIEW_OUTBOX = "view_outbox"
    RETRY_OUTBOX = "retry_outbox"
    MANUAL_SEND = "manual_send"
    VIEW_UNITS = "view_units"
    EDIT_UNITS = "edit_units"
    IMPORT_PLAN = "import_plan"
    MANAGE_SESSIONS = "manage_sessions"
    SUBSCRIBE_CALENDAR = "subscribe_calendar"
    VIEW_REPORTS = "view_reports"
    MANAGE_USERS = "manage_users"
    CHANGE_OWN_PASSWORD = "change_own_password"


class Scope(StrEnum):
    ALL = "all"
    MEMBER = "member"  # the unit is a lead or coordinating unit of the task
    LEAD = "lead"  # the unit leads the task


MATRIX: Mapping[Action, Mapping[UserRole, Scope]] = {
    Action.VIEW_DASHBOARD: {
        UserRole.ADMIN: Scope.ALL,
        UserRole.VIEWER: Scope.ALL,
        UserRole.UNIT: Scope.MEMBER,
    },
    Action.VIEW_TASKS: {UserRole.ADMIN: Scope.ALL, UserRole.VIEWER: Scope.ALL, UserRole.UNIT: Scope.MEMBER},
    Action.MARK_DONE: {UserRole.ADMIN: Scope.ALL, UserRole.UNIT: Scope.LEAD},
    Action.REOPEN: {UserRole.ADMIN: Scope.ALL},
    Action.EXTEND: {UserRole.ADMIN: Scope.ALL},
    Action.SET_DUE: {UserRole.ADMIN: Scope.ALL},
    Action.REQUEST_EXTENSION: {UserRole.UNIT: Scope.LEAD},  # an admin extends directly
    Action.VIEW_RULES: {UserRole.ADMIN: Scope.ALL, UserRole.VIEWER: Scope.ALL},
    Action.EDIT_RULES: {UserRole.ADMIN: Scope.ALL},
    Action.EDIT_TEMPLATES: {UserRole.ADMIN: Scope.ALL},
    Action.VIEW_UPCOMING: {
        UserRole.ADMIN: Scope.ALL,
        UserRole.VIEWER: Scope.ALL,
        UserRole.UNIT: Scope.MEMBER,
    },
    Action.VIEW_OUTBOX: {UserRole.ADMIN: Scope.ALL, UserRole.VIEWER: Scope.ALL},
    Action.RETRY_OUTBOX: {UserRole.ADMIN: Scope.ALL},
    Action.MANUAL_SEND: {UserRole.ADMIN: Scope.ALL},
    Action.VIEW_UNITS: {UserRole.ADMIN: Scope.ALL, UserRole.VIEWER: Scope.ALL},
    Action.EDIT_UNITS: {UserRole.ADMIN: Scope.ALL},
    Action.IMPORT_PLAN: {UserRole.ADMIN: Scope.ALL},
    Action.MANAGE_SESSIONS: {UserRole.ADMIN: Scope.ALL},
    Action.SUBSCRIBE_CALENDAR: {UserRole.ADMIN: Scope.ALL, UserRole.UNIT: Scope.MEMBER},
    Action.VIEW_REPORTS: {UserRole.ADMIN: Scope.ALL, UserRole.VIEWER: Scope.ALL},
    Action.MANAGE_USERS: {UserRole.ADMIN: Scope.ALL},
    Action.CHANGE_OWN_PASSWORD: {
        UserRole.ADMIN: Scope.ALL,
        UserRole.VIEWER: Scope.ALL,
        UserRole.UNIT: Scope.ALL,
    },
}

DENIED = {
    Action.VIEW_DASHBOARD: "Tài khoản của anh/chị không được xem trang tổng quan.",
    Action.VIEW_TASKS: "Nhiệm vụ này không thuộc đơn vị của anh/chị.",
    Action.MARK_DONE: "Chỉ Văn phòng (quản trị) hoặc đơn vị chủ trì mới đánh dấu được nhiệm vụ này hoàn thành.",
    Action.REOPEN: "Chỉ quản trị viên mới mở lại được nhiệm vụ đã hoàn thành.",
    Action.EXTEND: "Chỉ quản trị viên mới gia hạn được nhiệm vụ.",
    Action.SET_DUE: "Chỉ quản trị viên mới đặt hạn được cho nhiệm vụ.",
    Action.REQUEST_EXTENSION: "Chỉ đơn vị chủ trì mới gửi được đề nghị gia hạn nhiệm vụ này.",
    Action.VIEW_RULES: "Tài khoản của anh/chị không được xem quy tắc nhắc việc.",
    Action.EDIT_RULES: "Chỉ quản trị viên mới thay đổi được quy tắc.",
    Action.EDIT_TEMPLATES: "Chỉ quản trị viên mới thay đổi được mẫu thông báo.",
    Action.VIEW_UPCOMING: "Tài khoản của anh/chị không được xem lịch gửi.",
    Action.VIEW_OUTBOX: "Tài khoản đơn vị không được xem hộp thư đi.",
    Action.RETRY_OUTBOX: "Chỉ quản trị viên mới được gửi lại tin.",
    Action.MANUAL_SEND: "Chỉ quản trị viên mới được gửi tin thủ công.",
    Action.VIEW_UNITS: "Tài khoản đơn vị không được xem danh bạ đơn vị.",
    Action.EDIT_UNITS: "Chỉ quản trị viên mới sửa được danh bạ đơn vị.",
    Action.IMPORT_PLAN: "Chỉ quản trị viên mới được nhập kế hoạch.",
    Action.MANAGE_SESSIONS: "Chỉ quản trị viên mới xem và kết thúc được các phiên đăng nhập.",
    Action.SUBSCRIBE_CALENDAR: "Chỉ quản trị viên hoặc tài khoản của đơn vị mới tạo được địa chỉ lịch.",
    Action.VIEW_REPORTS: "Tài khoản đơn vị không được xem báo cáo kết quả thực hiện kế hoạch của cả Sở.",
    Action.MANAGE_USERS: "Chỉ quản trị viên mới tạo, sửa và khóa được tài khoản.",
    Action.CHANGE_OWN_PASSWORD: "Tài khoản của anh/chị không đổi được mật khẩu.",
}


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the routes see it (no database object)."""

    id: int
    name: str
    role: UserRole
    unit: str | None = None


@dataclass(frozen=True)
class TaskUnits:
    lead: Collection[str]
    coordinating: Collection[str] = ()


class Forbidden(Exception):
    """The user may not do this; ``message`` (Vietnamese) is shown on the 403 page."""

    def __init__(self, action: Action) -> None:
        self.action = action
        self.message = DENIED[action]
        super().__init__(self.message)


def scope(user: Principal, action: Action) -> Scope | None:
    """The part of the plan ``user`` may apply ``action`` to; None: none at all."""
    return MATRIX[action].get(user.role)


def allows(user: Principal, action: Action, task: TaskUnits | None = None) -> bool:
    """Whether ``user`` may do ``action`` (to ``task``, when the action is about one task)."""
    granted = scope(user, action)
    if granted is None:
        return False
    if granted == Scope.ALL or task is None:
        return True
    if user.unit is None:
        return False
    if granted == Scope.LEAD:
        return user.unit in task.lead
    return user.unit in task.lead or user.unit in task.coordinating


def require(user: Principal, action: Action, task: TaskUnits | None = None) -> None:
    if not allows(user, action, task):
        raise Forbidden(action)


def visible_unit(user: Principal) -> str | None:
    """The one unit whose tasks ``user`` may list (None: every task); a unit account without a unit sees none."""
    if scope(user, Action.VIEW_TASKS) == Scope.ALL:
        return None
    return user.unit or ""


def sees(user: Principal, task: TaskUnits) -> bool:
    return allows(user, Action.VIEW_TASKS, task)
